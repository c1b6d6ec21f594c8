/**
 * Promises the README makes that no other test holds it to, each against a real server over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { readFileSync } from 'node:fs';
import { openStream, post, startServer, waitFor, type ServerProcess } from '../helpers.ts';

describe('the README, promise by promise', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(['--store', 'memory', '--post-rate', '0', '--post-rate-ip', '0']);
  });
  afterAll(async () => {
    await server.stop();
  });

  it('serves room main at GET /', async () => {
    await post(server.url, 'main', { name: 'a', text: 'in main' });
    const res = await fetch(`${server.url}/`, { headers: { Accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('data-room="main"');
    expect(html).toContain('in main');
  });

  it('sends GET /rooms?room=NAME to that room (the switcher without JavaScript)', async () => {
    const res = await fetch(`${server.url}/rooms?room=lobby`, { redirect: 'manual' });
    expect(res.status).toBeGreaterThanOrEqual(300);
    expect(res.status).toBeLessThan(400);
    expect(res.headers.get('location')).toBe('/rooms/lobby');
  });

  it('replays the last 100 messages to a new stream by default, then goes live', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 130; i++) ids.push((await post(server.url, 'hundred', { name: 'a', text: `m${i}` })).id);
    const stream = await openStream(`${server.url}/rooms/hundred/events`);
    const live = await post(server.url, 'hundred', { name: 'a', text: 'live' });
    await stream.next((e) => e.id === live.id, 'the live message');
    expect(stream.messages().map((m) => m.id)).toEqual([...ids.slice(-100), live.id]);
    stream.close();
  });
});

describe('options the README lists, end to end', () => {
  it('--history N replays N messages to a new stream', async () => {
    const server = await startServer(['--store', 'memory', '--history', '3']);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await post(server.url, 'h', { name: 'a', text: `m${i}` })).id);
      const stream = await openStream(`${server.url}/rooms/h/events`);
      await stream.next((e) => e.id === ids.at(-1), 'the last message');
      expect(stream.messages().map((m) => m.id)).toEqual(ids.slice(-3));
      stream.close();
    } finally {
      await server.stop();
    }
  });

  it('--retention N keeps N messages a room, and a resume from before them gets reset', async () => {
    const server = await startServer(['--store', 'memory', '--retention', '5', '--post-rate', '0']);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) ids.push((await post(server.url, 'kept', { name: 'a', text: `m${i}` })).id);
      const history = await (await fetch(`${server.url}/rooms/kept/messages?limit=100`)).json();
      expect(history.messages.map((m: { id: string }) => m.id)).toEqual(ids.slice(-5));
      const stream = await openStream(`${server.url}/rooms/kept/events`, { 'Last-Event-ID': ids[0]! });
      const reset = await stream.next((e) => e.event === 'reset', 'the reset');
      expect(JSON.parse(reset.data)).toEqual({ reason: 'gap', after: ids[0] });
      await stream.next((e) => e.id === ids.at(-1), 'what is left');
      expect(stream.messages().map((m) => m.id)).toEqual(ids.slice(-5));
      stream.close();
    } finally {
      await server.stop();
    }
  });

  it('--max-streams N answers the stream past N with 503 and a reason', async () => {
    const server = await startServer(['--store', 'memory', '--max-streams', '2']);
    try {
      const open = [await openStream(`${server.url}/rooms/full/events`), await openStream(`${server.url}/rooms/full/events`)];
      const refused = await fetch(`${server.url}/rooms/full/events`);
      expect(refused.status).toBe(503);
      expect((await refused.json()).error).toBeString();
      open.forEach((s) => s.close());
    } finally {
      await server.stop();
    }
  });

  it('--token guards /metrics too, while /static and /healthz stay open', async () => {
    const server = await startServer(['--store', 'memory', '--token', 'open sesame, please']);
    try {
      expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
      const metrics = await fetch(`${server.url}/metrics`, { headers: { Authorization: 'Bearer open sesame, please' } });
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('threadchat_streams_open');
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      const page = await (await fetch(`${server.url}/login`)).text();
      const asset = page.match(/href="(\/static\/app\.css[^"]*)"/)?.[1];
      expect(asset).toBeString();
      expect((await fetch(`${server.url}${asset}`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('does not trust X-Forwarded-For: a client cannot pick a new address to escape the per-IP limit', async () => {
    const server = await startServer(['--store', 'memory', '--post-rate', '0', '--post-rate-ip', '1', '--post-burst-ip', '2']);
    try {
      const send = (i: number) => fetch(`${server.url}/rooms/ip/messages`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Forwarded-For': `10.0.0.${i}` },
        body: JSON.stringify({ name: 'a', text: `m${i}` }),
      });
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await send(i)).status);
      expect(statuses.slice(0, 2)).toEqual([201, 201]);
      expect(statuses).toContain(429);
      await waitFor(async () => (await (await fetch(`${server.url}/rooms/ip/messages`)).json()).messages.length >= 2, 'the two stored');
    } finally {
      await server.stop();
    }
  });

  it('limits posts per address across client ids: --post-rate-ip and --post-burst-ip, 429 with Retry-After', async () => {
    const server = await startServer(['--store', 'memory', '--post-rate-ip', '1', '--post-burst-ip', '4']);
    try {
      const started = performance.now();
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) =>
        fetch(`${server.url}/rooms/per-ip/messages`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Client-Id': `client-${i}` },
          body: JSON.stringify({ name: `n${i}`, text: `from client ${i}` }),
        })));
      const seconds = (performance.now() - started) / 1000;
      // Each client id is well within its own bucket: the address's burst of 4 decides, plus the 1 a second it
      // refills while the 10 arrive (a slow machine spreads them).
      const accepted = answers.filter((r) => r.status === 201).length;
      expect(accepted).toBeGreaterThanOrEqual(4);
      expect(accepted).toBeLessThanOrEqual(4 + Math.ceil(seconds));
      const refused = answers.filter((r) => r.status === 429);
      expect(refused.length).toBe(10 - accepted);
      expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await refused[0]!.json()).error).toContain('your address');
      const stored = (await (await fetch(`${server.url}/rooms/per-ip/messages`)).json()).messages;
      expect(stored.length).toBe(accepted);
    } finally {
      await server.stop();
    }
  });

  it('--host H is the address the server listens on, as the kernel reports it (127.0.0.1 by default)', async () => {
    for (const [args, expected] of [[[], '127.0.0.1'], [['--host', '0.0.0.0'], '0.0.0.0']] as const) {
      const server = await startServer([...args, '--store', 'memory']);
      try {
        expect(listeningAddresses(server.port)).toEqual([expected]);
        expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
      } finally {
        await server.stop();
      }
    }
  });
});

/** The local addresses of the sockets listening on `port`, from /proc/net/tcp and tcp6 (state 0A: LISTEN). */
function listeningAddresses(port: number): string[] {
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== '0A') continue;
      const [hex, portHex] = local.split(':');
      if (parseInt(portHex!, 16) !== port) continue;
      // IPv4: one 32-bit word in host (little-endian) order; IPv6: "::" for all zeros, else the raw hex.
      found.push(hex!.length === 8 ? hex!.match(/../g)!.reverse().map((b) => parseInt(b, 16)).join('.') : /^0+$/.test(hex!) ? '::' : hex!);
    }
  }
  return found;
}
