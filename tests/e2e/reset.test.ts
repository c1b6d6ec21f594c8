import { describe, expect, it } from 'bun:test';
import { openStream, post, startServer, tempDir } from '../helpers.ts';
import { DB, deleteKeys, SHARED_REDIS, storeUrl, uniquePrefix } from '../store/redis-helpers.ts';

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
});
