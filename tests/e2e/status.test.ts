/**
 * GET /status/events over real HTTP against a real server (Bun, or Node with THREADCHAT_RUNTIME=node): what a
 * snapshot says, that one comes about every second, that the sampler runs only while someone watches (the
 * snapshot counter in /metrics stands still otherwise), that status streams count against --max-streams and are
 * nobody's presence, and that the page and its stream need the token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import Redis from 'ioredis';
import { openStream, post, startServer, waitFor, type ServerProcess, type Stream } from '../helpers.ts';
import { DB, deleteKeys, SHARED_REDIS, storeUrl, uniquePrefix } from '../store/redis-helpers.ts';
import type { StatusSnapshot } from '../../views/status-snapshot.ts';

const snapshots = (s: Stream): StatusSnapshot[] => s.events.filter((e) => !e.event).map((e) => JSON.parse(e.data));
const metric = async (base: string, name: string, headers: Record<string, string> = {}) => {
  const text = await (await fetch(`${base}/metrics`, { headers })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no ${name} in /metrics`);
  return Number(line.split(' ')[1]);
};

/**
 * A room stream read raw, counting its heartbeat comments: the server's own clock, so a test can let real time
 * pass (and see that nothing happened meanwhile) by waiting for heartbeats rather than sleeping.
 */
async function heartbeatClock(url: string) {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { Accept: 'text/event-stream' }, signal: abort.signal });
  let text = '';
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as ReadableStream<Uint8Array>) text += decoder.decode(chunk, { stream: true });
    } catch {
      // aborted
    }
  })();
  const count = () => text.match(/^:/gm)?.length ?? 0;
  return {
    /** Resolves once `n` more heartbeats came. */
    async beats(n: number) {
      const start = count();
      await waitFor(() => count() >= start + n, `${n} heartbeats`);
    },
    close: () => abort.abort(),
  };
}

describe('GET /status/events', () => {
  let server: ServerProcess;
  const streams: Stream[] = [];
  let clock: Awaited<ReturnType<typeof heartbeatClock>>;

  beforeAll(async () => {
    server = await startServer(['--store', 'memory', '--heartbeat', '1000', '--warm', '2', '--max-streams', '6']);
    for (const [room, name] of [['alpha', 'ann'], ['alpha', 'al'], ['beta', 'bea']] as const) {
      streams.push(await openStream(`${server.url}/rooms/${room}/events?name=${name}`));
    }
    clock = await heartbeatClock(`${server.url}/rooms/clock/events`);
    await clock.beats(1);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    clock.close();
    await server.stop();
  });

  it('takes no snapshot while nobody watches', async () => {
    expect(await metric(server.url, 'threadchat_status_snapshots')).toBe(0);
    await clock.beats(3); // two sampling periods or more: a following Worker runs its timers about once a second
    expect(await metric(server.url, 'threadchat_status_snapshots')).toBe(0);
  });

  it('sends a snapshot at once, then about one a second: rooms, Workers, rates, latency, slowest streams', async () => {
    const status = await openStream(`${server.url}/status/events?format=json`);
    try {
      expect(status.status).toBe(200);
      expect(status.headers.get('content-type')).toContain('text/event-stream');
      const first = JSON.parse((await status.next((e) => !e.event, 'the first snapshot', 3000)).data) as StatusSnapshot;
      expect(first.rooms).toEqual([{ room: 'alpha', streams: 2 }, { room: 'beta', streams: 1 }, { room: 'clock', streams: 1 }]);
      expect(first.streams).toMatchObject({ open: 4, status: 1 });
      expect(first.workers.serving).toBe(5); // four room streams and this one, each with its own Worker
      expect(first.workers.threads).toBeGreaterThanOrEqual(first.workers.serving + first.workers.idle);
      expect(first.rates).toBeNull(); // nothing to compare with yet
      expect(first.latency.points).toHaveLength(60);
      expect(first.slowest.map((s) => s.room).sort()).toEqual(['alpha', 'alpha', 'beta', 'clock']);
      expect(first.slowest.map((s) => s.who)).toContain('ann');
      expect(first.slowest.map((s) => s.who)).toContain('(no name)'); // the unnamed stream: no address in open mode
      expect(JSON.stringify(first)).not.toContain('127.0.0.1');
      expect(first.memory.perThread).toBeGreaterThan(0);
      // The status stream is nobody's presence: the rooms' members are their own streams only.
      expect(await (await fetch(`${server.url}/rooms/alpha/members`)).json()).toMatchObject({ count: 2, members: ['al', 'ann'] });

      // Messages flowing: the rates and the latency window see them.
      let sent = 0;
      const busy = await waitFor(async () => {
        await post(server.url, 'alpha', { name: 'poster', text: `m${sent++}` });
        const last = snapshots(status).at(-1)!;
        return last.rates && last.rates.messages > 0 && last.latency.count > 0 ? last : null;
      }, 'a snapshot with messages per second', 8000);
      expect(busy.rates!.deliveries).toBeGreaterThanOrEqual(busy.rates!.messages); // two streams of alpha get each
      expect(busy.rates!.wakes).toBeGreaterThan(0);
      expect(busy.latency.points.some((p) => p.p50 !== null && p.p99 !== null && p.p99 >= p.p50)).toBe(true);
      expect(busy.latency.p50).toBeGreaterThan(0);

      // About one a second (the first came at once; the later ones on the sampler's period).
      await waitFor(() => snapshots(status).length >= 4, 'four snapshots', 6000);
      const times = status.events.filter((e) => !e.event).map((e) => JSON.parse(e.data).at as number);
      const gaps = times.slice(2).map((t, i) => t - times[i + 1]!);
      for (const gap of gaps) expect(gap).toBeGreaterThan(700), expect(gap).toBeLessThan(1600);
      const numbers = snapshots(status).map((s) => s.snapshot);
      expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));
      expect(await metric(server.url, 'threadchat_status_snapshots')).toBeGreaterThanOrEqual(numbers.at(-1)!);
    } finally {
      status.close();
    }
  });

  it('stops sampling once the last status stream has gone', async () => {
    await waitFor(async () => (await metric(server.url, 'threadchat_streams_open')) === 4, 'the status stream closed');
    await clock.beats(2); // the tick after the last watcher left stops the sampler
    const taken = await metric(server.url, 'threadchat_status_snapshots');
    await clock.beats(3);
    expect(await metric(server.url, 'threadchat_status_snapshots')).toBe(taken);
  });

  it('counts status streams against --max-streams', async () => {
    const more = [await openStream(`${server.url}/status/events`), await openStream(`${server.url}/status/events?format=text`)];
    try {
      expect(more.map((s) => s.status)).toEqual([200, 200]);
      const refused = await fetch(`${server.url}/status/events`);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBeTruthy();
      expect((await refused.json()).error).toContain('streams are open');
      // The text format: one readable line per snapshot.
      const line = await more[1]!.next((e) => !e.event, 'a text snapshot', 3000);
      expect(line.data).toMatch(/status \d+: 4 streams \(#alpha 2, #beta 1, #clock 1\), 2 watching status; Workers 6 serving/);
    } finally {
      for (const s of more) s.close();
    }
  });

  it('refuses a bad format with a 400 and a reason', async () => {
    const res = await fetch(`${server.url}/status/events?format=xml`);
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('format must be json, html, text, raw or ndjson');
  });
});

describe('GET /status with --token', () => {
  const token = 'status token, long enough';
  let server: ServerProcess;
  beforeAll(async () => void (server = await startServer(['--store', 'memory', '--warm', '1'], { CHAT_TOKEN: token })));
  afterAll(() => server.stop());

  it('sends a browser to sign in, refuses the stream without the token, and serves both with it', async () => {
    const page = await fetch(`${server.url}/status`, { headers: { Accept: 'text/html' }, redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Fstatus');
    const stream = await fetch(`${server.url}/status/events`);
    expect(stream.status).toBe(401);
    expect((await stream.json()).error).toContain('needs a token');

    const auth = { Authorization: `Bearer ${token}` };
    const signedIn = await fetch(`${server.url}/status`, { headers: { Accept: 'text/html', ...auth } });
    expect(signedIn.status).toBe(200);
    expect(signedIn.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await signedIn.text()).toContain('hx-sse:connect="/status/events?format=html"');
    const live = await openStream(`${server.url}/status/events?format=html`, auth);
    try {
      expect(live.status).toBe(200);
      const html = await live.next((e) => !e.event, 'an html snapshot', 3000);
      expect(html.data).toContain('class="status-view"');
      expect(html.data).toContain('<svg class="latency-chart"');
    } finally {
      live.close();
    }
  });
});

describe('status streams with Redis presence', () => {
  const prefix = uniquePrefix('status');
  let server: ServerProcess;
  let redis: Redis;
  beforeAll(async () => {
    server = await startServer(['--store', storeUrl(SHARED_REDIS, DB.e2e, prefix), '--warm', '1']);
    redis = new Redis(`${SHARED_REDIS}/${DB.e2e}`);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
    await deleteKeys(SHARED_REDIS, DB.e2e, prefix);
  });

  it('shares the rooms\' members with the other instances, never the status watchers', async () => {
    const status = await openStream(`${server.url}/status/events`);
    const room = await openStream(`${server.url}/rooms/gamma/events?name=gus`);
    try {
      await waitFor(async () => (await redis.keys(`${prefix}presence:*`)).length > 0, 'a presence share in Redis');
      expect(await redis.keys(`${prefix}presence:*`)).toEqual([`${prefix}presence:gamma`]);
      const seen = await waitFor(() => snapshots(status).find((s) => s.rooms.length > 0), 'a snapshot with room gamma', 3000);
      expect(seen).toMatchObject({ rooms: [{ room: 'gamma', streams: 1 }], streams: { open: 1, status: 1 } });
    } finally {
      status.close();
      room.close();
    }
  });
});

describe('GET /status/events after a rename', () => {
  it("shows a stream by the name it goes by now, not the one it opened with", async () => {
    const server = await startServer(['--store', 'memory', '--warm', '2']);
    try {
      const key = 'a-client-key-of-enough-length-0001';
      const renamed = await openStream(`${server.url}/rooms/renames/events?name=carol`, { 'X-Client-Id': key });
      const put = await fetch(`${server.url}/rooms/renames/members/me`, { method: 'PUT', headers: { 'Content-Type': 'text/plain', 'X-Client-Id': key }, body: 'caroline' });
      expect(put.status).toBe(200);
      const status = await openStream(`${server.url}/status/events?format=json`);
      const shown = await waitFor(() => snapshots(status).find((s) => s.slowest.some((w) => w.room === 'renames')), 'a snapshot with the room', 5000);
      expect(shown.slowest.filter((w) => w.room === 'renames').map((w) => w.who)).toEqual(['caroline']);
      status.close();
      renamed.close();
    } finally {
      await server.stop();
    }
  });
});
