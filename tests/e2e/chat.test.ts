import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { health, openStream, post, startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';

describe('chat over real HTTP', () => {
  const data = tempDir();
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(['--data', data.path], { CHAT_FAULTS: '1' });
  });
  afterAll(async () => {
    await server.stop();
    data.remove();
  });

  it('delivers every message to every other client once, in order, and skips the sender', async () => {
    const room = 'fanout';
    const alice = await openStream(`${server.url}/rooms/${room}/events?client=alice1`);
    const bob = await openStream(`${server.url}/rooms/${room}/events?client=bob1`);
    expect(alice.status).toBe(200);
    expect(alice.headers.get('content-type')).toContain('text/event-stream');
    expect(alice.headers.get('x-accel-buffering')).toBe('no');
    await waitFor(async () => (await health(server.url)).streams >= 2, 'two streams');
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) {
      const from = i % 3 === 0 ? 'alice1' : i % 3 === 1 ? 'bob1' : 'carol1';
      sent.push((await post(server.url, room, { name: from, text: `m${i}` }, { 'X-Client-Id': from })).id);
    }
    const last = sent.at(-1)!;
    await alice.next((e) => e.id === last, 'the last message at alice');
    await bob.next((e) => e.id === last, 'the last message at bob');
    expect(alice.messages().some((m) => m.name === 'alice1')).toBe(false);
    expect(bob.messages().some((m) => m.name === 'bob1')).toBe(false);
    expect(new Set(alice.messages().map((m) => m.id)).size).toBe(alice.messages().length);
    expect(alice.messages().map((m) => m.id)).toEqual(sent.filter((_, i) => i % 3 !== 0));
    expect(bob.messages().map((m) => m.id)).toEqual(sent.filter((_, i) => i % 3 !== 1));
    alice.close();
    bob.close();
  });

  it('gives a late joiner history then live messages, with no gap or duplicate at the seam', async () => {
    const room = 'seam';
    for (let i = 0; i < 20; i++) await post(server.url, room, { text: `before-${i}` });
    let posting = true;
    const during: { id: string }[] = [];
    // Two posters, so appends race the history query while the stream opens.
    const poster = Promise.all([0, 1].map(async (p) => {
      for (let i = 0; posting; i++) during.push(await post(server.url, room, { text: `during-${p}-${i}` }));
    }));
    const late = await openStream(`${server.url}/rooms/${room}/events?history=1000`);
    await late.next((e) => !e.event && JSON.parse(e.data).text.startsWith('during-'), 'a message posted while joining');
    posting = false;
    await poster;
    const marker = await post(server.url, room, { text: 'after' });
    await late.next((e) => e.id === marker.id, 'the marker');
    const got = late.messages().map((m) => m.id);
    expect(new Set(got).size).toBe(got.length);
    const all = (await (await fetch(`${server.url}/rooms/${room}/messages?limit=1000`)).json()).messages.map((m: { id: string }) => m.id);
    expect(got).toEqual(all);
    late.close();
  });

  it('resumes from Last-Event-ID with exactly the missed messages', async () => {
    const room = 'resume';
    const first = await openStream(`${server.url}/rooms/${room}/events`);
    const a = await post(server.url, room, { text: 'seen' });
    await first.next((e) => e.id === a.id, 'the first message');
    first.close();
    const missed = [];
    for (let i = 0; i < 5; i++) missed.push((await post(server.url, room, { text: `missed-${i}` })).id);
    const again = await openStream(`${server.url}/rooms/${room}/events`, { 'Last-Event-ID': a.id });
    const live = await post(server.url, room, { text: 'live' });
    await again.next((e) => e.id === live.id, 'the live message');
    expect(again.messages().map((m) => m.id)).toEqual([...missed, live.id]);
    again.close();
    const viaQuery = await openStream(`${server.url}/rooms/${room}/events?lastEventId=${missed[3]!}`);
    await viaQuery.next((e) => e.id === live.id, 'the live message via ?lastEventId');
    expect(viaQuery.messages().map((m) => m.id)).toEqual([missed[4]!, live.id]);
    viaQuery.close();
  });

  it('gives each open stream its own Worker, and ends them when clients leave', async () => {
    await waitFor(async () => {
      const h = await health(server.url);
      return h.streams === 0 && h.workers === 0;
    }, 'no streams left from earlier tests');
    const streams = await Promise.all(Array.from({ length: 5 }, () => openStream(`${server.url}/rooms/workers/events`)));
    await waitFor(async () => (await health(server.url)).workers === 5, 'five Workers');
    expect((await health(server.url)).streams).toBe(5);
    streams.slice(0, 3).forEach((s) => s.close());
    await waitFor(async () => {
      const h = await health(server.url);
      return h.workers === 2 && h.streams === 2;
    }, 'two Workers after three clients left');
    streams.slice(3).forEach((s) => s.close());
    await waitFor(async () => (await health(server.url)).workers === 0, 'no Workers');
  });

  it('ends only the stream whose Worker throws', async () => {
    const room = 'faults';
    const healthy = await openStream(`${server.url}/rooms/${room}/events`);
    const doomed = await openStream(`${server.url}/rooms/${room}/events?fault=throw`);
    const bye = await doomed.next((e) => e.event === 'bye', 'the final event of the failed stream');
    expect(JSON.parse(bye.data).reason).toBe('error');
    await doomed.closed;
    const m = await post(server.url, room, { text: 'still here' });
    await healthy.next((e) => e.id === m.id, 'a message on the healthy stream');
    await waitFor(async () => (await health(server.url)).workers === 1, 'one Worker left');
    healthy.close();
  });
});

describe('restarts', () => {
  it('keeps history and continues ids across a restart on the same --data', async () => {
    const data = tempDir();
    let server = await startServer(['--data', data.path]);
    const a = await post(server.url, 'r', { text: 'one' });
    expect(await server.stop()).toBe(0);
    server = await startServer(['--data', data.path]);
    const history = await (await fetch(`${server.url}/rooms/r/messages`)).json();
    expect(history.messages.map((m: { text: string }) => m.text)).toEqual(['one']);
    const b = await post(server.url, 'r', { text: 'two' });
    expect(Number(b.id)).toBeGreaterThan(Number(a.id));
    await server.stop();
    data.remove();
  });

  it('keeps a message acknowledged with 201 after kill -9', async () => {
    const data = tempDir();
    let server = await startServer(['--data', data.path]);
    const acked = await post(server.url, 'r', { text: 'durable' });
    await server.kill9();
    server = await startServer(['--data', data.path]);
    const history = await (await fetch(`${server.url}/rooms/r/messages`)).json();
    expect(history.messages.map((m: { id: string }) => m.id)).toContain(acked.id);
    await server.stop();
    data.remove();
  });

  it('ends open streams with a final event on SIGTERM and exits 0', async () => {
    const data = tempDir();
    const server = await startServer(['--data', data.path]);
    const s = await openStream(`${server.url}/rooms/r/events`);
    await waitFor(async () => (await health(server.url)).streams === 1, 'the stream');
    const code = server.stop();
    const bye = await s.next((e) => e.event === 'bye', 'the shutdown event');
    expect(JSON.parse(bye.data).reason).toBe('shutdown');
    expect(await code).toBe(0);
    data.remove();
  });
});

describe('presence', () => {
  it('coalesces a crowd arriving at once into a few presence events, with every join in them', async () => {
    const data = tempDir();
    const server = await startServer(['--data', data.path]);
    try {
      const watcher = await openStream(`${server.url}/rooms/crowd/events?name=watcher`);
      const crowd = await Promise.all(Array.from({ length: 30 }, (_, i) => openStream(`${server.url}/rooms/crowd/events?name=p${i}`)));
      const last = await watcher.next((e) => e.event === 'presence' && JSON.parse(e.data).count === 31, 'presence counting all 31');
      const events = watcher.events.filter((e) => e.event === 'presence');
      // One event per arrival would be 31 here, and N² frames across the room.
      expect(events.length).toBeLessThan(10);
      const joined = events.flatMap((e) => JSON.parse(e.data).changes ?? []).filter((c: { kind: string }) => c.kind === 'join').map((c: { name: string }) => c.name);
      expect(new Set(joined)).toEqual(new Set(['watcher', ...Array.from({ length: 30 }, (_, i) => `p${i}`)]));
      expect(JSON.parse(last.data).members).toHaveLength(31);
      const members = await (await fetch(`${server.url}/rooms/crowd/members`)).json();
      expect(members.count).toBe(31);
      crowd.forEach((s) => s.close());
      watcher.close();
    } finally {
      await server.stop();
      data.remove();
    }
  });

  it('renames a client in place with PUT /rooms/:room/members/:client, and says so to the room', async () => {
    const data = tempDir();
    const server = await startServer(['--data', data.path]);
    const put = (client: string, body: string, type = 'text/plain') =>
      fetch(`${server.url}/rooms/names/members/${client}`, { method: 'PUT', headers: { 'Content-Type': type }, body });
    try {
      const watcher = await openStream(`${server.url}/rooms/names/events?name=watcher&client=w1`);
      const alice = await openStream(`${server.url}/rooms/names/events?name=alice&client=a1`);
      const anon = await openStream(`${server.url}/rooms/names/events?client=z1`);
      await watcher.next((e) => e.event === 'presence' && JSON.parse(e.data).count === 3, 'three here');
      const renamed = await put('a1', JSON.stringify({ name: 'alicia' }), 'application/json');
      expect(renamed.status).toBe(200);
      expect((await renamed.json()).members).toEqual(['alicia', 'watcher']);
      await watcher.next((e) => e.event === 'presence' && (JSON.parse(e.data).changes ?? []).some((c: { kind: string; from?: string }) => c.kind === 'rename' && c.from === 'alice'), 'the rename');
      expect((await put('z1', 'zed')).status).toBe(200); // a nameless stream joins under its new name
      await watcher.next((e) => e.event === 'presence' && (JSON.parse(e.data).changes ?? []).some((c: { kind: string; name: string }) => c.kind === 'join' && c.name === 'zed'), 'the join of zed');
      const nobody = await put('nobody', 'x');
      expect(nobody.status).toBe(404);
      expect((await nobody.json()).error).toContain('no open stream');
      expect((await put('a1', ' \n ')).status).toBe(422);
      expect((await put('a1', 'n'.repeat(33))).status).toBe(422);
      [watcher, alice, anon].forEach((s) => s.close());
    } finally {
      await server.stop();
      data.remove();
    }
  });
});
