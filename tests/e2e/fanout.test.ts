import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { readFileSync } from 'node:fs';
import { health, openStream, post, SERVER_RUNTIME, startServer, waitFor, type ServerProcess } from '../helpers.ts';

describe('fan-out across rooms', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(['--store', 'memory', '--post-rate', '0', '--post-rate-ip', '0']);
  });
  afterAll(async () => {
    await server.stop();
  });

  it("gives every stream exactly its own room's messages, in order, while other rooms are busy", async () => {
    const rooms = ['r0', 'r1', 'r2', 'r3', 'r4'];
    const streams = await Promise.all(rooms.flatMap((room) => [0, 1].map(() => openStream(`${server.url}/rooms/${room}/events?history=0`))));
    const sent: Record<string, string[]> = Object.fromEntries(rooms.map((r) => [r, []]));
    for (let i = 0; i < 60; i++) {
      const room = rooms[(i * 7) % rooms.length]!;
      const m = await post(server.url, room, { name: 'p', text: `${room}:${i}` });
      sent[room]!.push(m.id);
    }
    for (const [i, stream] of streams.entries()) {
      const room = rooms[i >> 1]!;
      const last = sent[room]!.at(-1)!;
      await stream.next((e) => e.id === last, `the last message of ${room}`);
      expect(stream.messages().map((m) => m.id)).toEqual(sent[room]!);
      expect(stream.messages().every((m) => m.room === room)).toBe(true);
      stream.close();
    }
  });

  it('reports the rooms it follows and the waves it started in /healthz', async () => {
    const a = await openStream(`${server.url}/rooms/quiet-a/events?history=0`);
    const b = await openStream(`${server.url}/rooms/quiet-b/events?history=0`);
    const before = await health(server.url);
    expect(before.rooms).toBeGreaterThanOrEqual(2);
    const m = await post(server.url, 'quiet-a', { name: 'p', text: 'one' });
    await a.next((e) => e.id === m.id, 'the message');
    expect((await health(server.url)).waves).toBeGreaterThan(before.waves);
    a.close();
    b.close();
    await waitFor(async () => (await health(server.url)).rooms === 0, 'the rooms to be let go');
  });
});

describe('connect storms', () => {
  it('starts --warm N idle Workers at launch', async () => {
    const server = await startServer(['--store', 'memory', '--warm', '40']);
    try {
      await waitFor(async () => (await health(server.url)).idle >= 40, '40 idle Workers');
    } finally {
      await server.stop();
    }
  });

  it('answers streams past --max-connecting with 503 and Retry-After: 1, and serves every stream it accepted', async () => {
    const server = await startServer(['--store', 'memory', '--warm', '1', '--max-connecting', '3', '--max-streams-per-ip', '100']);
    try {
      const answers = await Promise.all(Array.from({ length: 30 }, () => fetch(`${server.url}/rooms/storm/events?history=0`)));
      const refused = answers.filter((r) => r.status === 503);
      const accepted = answers.filter((r) => r.status === 200);
      expect(refused.length).toBeGreaterThan(0);
      expect(accepted.length).toBeGreaterThanOrEqual(3);
      expect(refused[0]!.headers.get('retry-after')).toBe('1');
      expect((await refused[0]!.json()).error).toContain('waiting for their thread to start');
      // Every accepted stream gets the next message: none hangs half-open.
      const m = await post(server.url, 'storm', { name: 'p', text: 'after the storm' });
      await Promise.all(accepted.map(async (res) => {
        const reader = res.body!.getReader();
        let text = '';
        const decoder = new TextDecoder();
        await waitFor(async () => {
          const { value } = await reader.read();
          text += decoder.decode(value);
          return text.includes(`id: ${m.id}\n`);
        }, 'the message on an accepted stream');
        await reader.cancel();
      }));
    } finally {
      await server.stop();
    }
  });
});

describe('JIT settings for many Workers', () => {
  it('restarts itself in place on Bun, same PID, with the DFG off and a slow collection timer (not on Node)', async () => {
    const server = await startServer(['--store', 'memory']);
    try {
      const env = readFileSync(`/proc/${server.proc.pid}/environ`, 'utf8').split('\0');
      expect(env.includes('BUN_JSC_useDFGJIT=0')).toBe(SERVER_RUNTIME === 'bun');
      expect(env.includes('BUN_GC_TIMER_INTERVAL=30000')).toBe(SERVER_RUNTIME === 'bun');
      expect((await health(server.url)).streams).toBe(0); // the restarted process is the one serving
    } finally {
      await server.stop();
    }
  });
});

describe('flow control', () => {
  it("holds a POST while its room's streams are behind, never past a second, and loses nothing", async () => {
    const server = await startServer(['--store', 'memory', '--faults', '--post-rate', '0', '--post-rate-ip', '0']);
    const heldSoFar = async () => Number((await (await fetch(`${server.url}/metrics`)).text()).match(/^threadchat_posts_held_total (\d+)$/m)?.[1]);
    try {
      // The stalled stream holds the first wave's baton for 3 s, as a descheduled Worker would.
      const stalled = await openStream(`${server.url}/rooms/flow/events?history=0&fault=stall`);
      const watcher = await openStream(`${server.url}/rooms/flow/events?history=0`);
      await waitFor(async () => (await health(server.url)).connecting === 0, 'both streams following');
      const sent = [(await post(server.url, 'flow', { name: 'p', text: 'm0' })).id];
      await watcher.next((e) => e.id === sent[0], 'the first message');
      expect(await heldSoFar()).toBe(0);
      // Every message from now waits for the next wave; once the oldest has waited past the limit, a POST is held.
      while ((await heldSoFar()) === 0 && sent.length < 500) sent.push((await post(server.url, 'flow', { name: 'p', text: `m${sent.length}` })).id);
      expect(await heldSoFar()).toBe(1);
      // The held POST was answered while the wave was still stalled: a stuck room does not hold its publishers.
      expect(stalled.events.some((e) => e.id === sent[1])).toBe(false);
      for (const stream of [watcher, stalled]) {
        await stream.next((e) => e.id === sent.at(-1), 'the last message');
        expect(stream.messages().map((m) => m.id)).toEqual(sent);
      }
      stalled.close();
      watcher.close();
    } finally {
      await server.stop();
    }
  });
});
