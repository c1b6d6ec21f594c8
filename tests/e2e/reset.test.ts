import { describe, expect, it } from 'bun:test';
import Redis from 'ioredis';
import { openStream, post, startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';
import { DB, deleteKeys, SHARED_REDIS, startPrivateRedis, storeUrl, uniquePrefix } from '../store/redis-helpers.ts';

/**
 * A client that resumes with a Last-Event-ID from before its server's store was reset (a memory store restarted,
 * a data directory wiped, Redis flushed) gets a `reset`, the recent history, and every message after it: the old
 * id must not be taken as a position in the new history.
 */
const backends: { name: string; args: () => string[]; wipe: () => Promise<void>; done: () => Promise<void> }[] = [
  { name: 'memory, restarted', args: () => ['--store', 'memory'], wipe: async () => {}, done: async () => {} },
  (() => {
    let data = tempDir();
    return {
      name: 'sqlite, data directory wiped',
      args: () => ['--data', data.path],
      wipe: async () => {
        data.remove();
        data = tempDir();
      },
      done: async () => data.remove(),
    };
  })(),
  (() => {
    const prefix = uniquePrefix('reset');
    return {
      name: 'redis, keys flushed',
      args: () => ['--store', storeUrl(SHARED_REDIS, DB.e2e, prefix)],
      wipe: () => deleteKeys(SHARED_REDIS, DB.e2e, prefix),
      done: () => deleteKeys(SHARED_REDIS, DB.e2e, prefix),
    };
  })(),
];

describe('a resume from before the store was reset', () => {
  for (const backend of backends) {
    it(`gets reset, the recent history and every new message (${backend.name})`, async () => {
      let server = await startServer([...backend.args(), '--post-rate', '0', '--post-rate-ip', '0']);
      try {
        const old: string[] = [];
        for (let i = 0; i < 5; i++) old.push((await post(server.url, 'r', { name: 'a', text: `old ${i}` })).id);
        expect(await server.stop()).toBe(0);
        await backend.wipe();
        server = await startServer([...backend.args(), '--post-rate', '0', '--post-rate-ip', '0']);
        const before = await post(server.url, 'r', { name: 'b', text: 'new, before the resume' });
        const resumed = await openStream(`${server.url}/rooms/r/events`, { 'Last-Event-ID': old.at(-1)! });
        const reset = await resumed.next((e) => e.event === 'reset', 'the reset');
        expect(JSON.parse(reset.data)).toEqual({ reason: 'unknown', after: old.at(-1) });
        const fresh: string[] = [];
        for (let i = 0; i < 3; i++) fresh.push((await post(server.url, 'r', { name: 'b', text: `new ${i}` })).id);
        await resumed.next((e) => e.id === fresh.at(-1), 'the last new message');
        expect(resumed.events[0]!.event).toBe('reset');
        expect(resumed.messages().map((m) => m.id)).toEqual([before.id, ...fresh]);
        // A position this store did issue still resumes as before: no reset, only what came after.
        const again = await openStream(`${server.url}/rooms/r/events`, { 'Last-Event-ID': fresh[0]! });
        await again.next((e) => e.id === fresh.at(-1), 'the resumed messages');
        expect(again.events.some((e) => e.event === 'reset')).toBe(false);
        expect(again.messages().map((m) => m.id)).toEqual(fresh.slice(1));
        resumed.close();
        again.close();
      } finally {
        await server.stop();
        await backend.done();
      }
    });
  }

  it('treats Last-Event-ID 0 as "from the start", not as an unknown id', async () => {
    const server = await startServer(['--store', 'memory']);
    try {
      const first = await post(server.url, 'r', { name: 'a', text: 'one' });
      const stream = await openStream(`${server.url}/rooms/r/events`, { 'Last-Event-ID': '0' });
      await stream.next((e) => e.id === first.id, 'the first message');
      expect(stream.events.some((e) => e.event === 'reset')).toBe(false);
      stream.close();
    } finally {
      await server.stop();
    }
  });

  it('gets reset after Redis is flushed under running instances, before and after a new post, and after their restart', async () => {
    const redis = await startPrivateRedis(); // FLUSHALL wipes a whole server: never the shared one
    const args = ['--store', storeUrl(redis.url, 0, 'flush:'), '--post-rate', '0', '--post-rate-ip', '0', '--log', 'json'];
    let servers: ServerProcess[] = await Promise.all([startServer(args), startServer(args)]);
    const admin = new Redis(redis.url);
    /** A stream on `base` resumed from `id` opens with a reset that names it, and `GET ?after=` says unknown. */
    const expectReset = async (base: string, id: string) => {
      const resumed = await openStream(`${base}/rooms/r/events`, { 'Last-Event-ID': id });
      const first = await resumed.next(() => true, 'the first event');
      resumed.close();
      expect(first.event).toBe('reset');
      expect(JSON.parse(first.data)).toEqual({ reason: 'unknown', after: id });
      const page = (await (await fetch(`${base}/rooms/r/messages?after=${id}`)).json()) as { unknown: boolean };
      expect(page.unknown).toBe(true);
      return resumed;
    };
    try {
      const [a, b] = servers as [ServerProcess, ServerProcess];
      const old: string[] = [];
      for (const text of ['m1', 'm2', 'm3']) old.push((await post(a.url, 'r', { name: 'a', text })).id);
      await admin.flushall();
      await expectReset(b.url, old[0]!); // nothing posted since the flush: no id is this data's
      const n1 = await post(a.url, 'r', { name: 'a', text: 'n1' });
      for (const server of servers) {
        const resumed = await expectReset(server.url, old[0]!);
        expect(resumed.messages().every((m) => m.id !== old[1] && m.id !== old[2])).toBe(true);
      }
      const fresh = await openStream(`${b.url}/rooms/r/events`, { 'Last-Event-ID': old[0]! });
      await fresh.next((e) => e.id === n1.id, 'n1 after the reset');
      fresh.close();
      // The instances' tails saw the counter start again: their log says the data was wiped, not trimmed.
      await waitFor(() => servers.every((s) => s.output().includes('wiped under this instance')), 'the wipe in both logs');
      for (const server of servers) expect(server.output()).not.toContain('trimmed past this instance');
      for (const server of servers) expect(await server.stop()).toBe(0);
      servers = await Promise.all([startServer(args), startServer(args)]);
      for (const server of servers) await expectReset(server.url, old[2]!);
    } finally {
      admin.disconnect();
      await Promise.all(servers.map((s) => s.stop()));
      await redis.remove();
    }
  });
});
