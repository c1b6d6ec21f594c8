import { afterAll, describe, expect, it } from 'bun:test';
import { createMemoryStore } from '../../store/memory.ts';
import { createRedisStore } from '../../store/redis.ts';
import { createSqliteStore } from '../../store/sqlite.ts';
import type { ChatMessage } from '../../lib/chat-types.ts';
import { compareIds, IdempotencyConflictError, type IdempotencyKey, type Store } from '../../store/types.ts';
import { tempDir, waitFor } from '../helpers.ts';
import { DB, deleteKeys, SHARED_REDIS, storeUrl, uniquePrefix } from './redis-helpers.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/**
 * Each backend, opened on fresh data; `again()` opens the same data once more: after the first store closed (a
 * restart) for SQLite, beside it (a second instance) for Redis. Memory keeps nothing across a restart.
 */
interface Opened {
  store: Store;
  again?: () => Promise<Store>;
}
const backends: Record<string, (options?: { idempotencyTtlMs?: number }) => Promise<Opened>> = {
  memory: async (options) => ({ store: createMemoryStore(options) }),
  sqlite: async (options) => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const store = createSqliteStore({ dir: dir.path, ...options });
    return { store, again: async () => (await store.close(), createSqliteStore({ dir: dir.path, ...options })) };
  },
  redis: async (options) => {
    const prefix = uniquePrefix('idempotency');
    cleanups.push(() => deleteKeys(SHARED_REDIS, DB.conformance, prefix));
    const url = storeUrl(SHARED_REDIS, DB.conformance, prefix);
    return { store: await createRedisStore({ url, ...options }), again: () => createRedisStore({ url, ...options }) };
  },
};

const msg = (text: string, room = 'r') => ({ room, name: 'tester', text, client: 'c-1' });
const key = (k: string, fingerprint = `fp-${k}`, scope = 'c-1'): IdempotencyKey => ({ scope, key: k, fingerprint });

for (const [kind, open] of Object.entries(backends)) {
  describe(`store: ${kind}, idempotency keys`, () => {
    it('stores a message once per key and answers a retry with the message first stored', async () => {
      const { store } = await open();
      const first = await store.appendOnce(msg('hello'), key('k1'));
      expect(first.replayed).toBe(false);
      const retry = await store.appendOnce(msg('hello'), key('k1'));
      expect(retry).toEqual({ message: first.message, replayed: true });
      const other = await store.appendOnce(msg('hello'), key('k2'));
      expect(other.replayed).toBe(false);
      expect((await store.recent('r', 10)).map((m) => m.id)).toEqual([first.message.id, other.message.id]);
      await store.close();
    });

    it('refuses the same key with another message, and keeps keys of different senders apart', async () => {
      const { store } = await open();
      await store.appendOnce(msg('one'), key('k'));
      expect(await store.appendOnce(msg('two'), key('k', 'another fingerprint')).catch((e: unknown) => e)).toBeInstanceOf(IdempotencyConflictError);
      const elsewhere = await store.appendOnce(msg('two'), key('k', 'another fingerprint', 'c-2'));
      expect(elsewhere.replayed).toBe(false);
      expect((await store.recent('r', 10)).map((m) => m.text)).toEqual(['one', 'two']);
      await store.close();
    });

    it('stores racing retries of one key once', async () => {
      const { store } = await open();
      const results = await Promise.all(Array.from({ length: 8 }, () => store.appendOnce(msg('race'), key('k'))));
      expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
      expect(results.filter((r) => !r.replayed).length).toBe(1);
      expect((await store.recent('r', 10)).length).toBe(1);
      await store.close();
    });

    it('forgets a key once its time is up', async () => {
      const { store } = await open({ idempotencyTtlMs: 200 });
      const first = await store.appendOnce(msg('again later'), key('k'));
      // Deadline-bound: the key lives 200 ms; a retry after that is a new message.
      const later = await waitFor(async () => {
        const result = await store.appendOnce(msg('again later'), key('k'));
        return result.replayed ? null : result;
      }, 'the key to expire', 5000);
      expect(compareIds(later.message.id, first.message.id)).toBeGreaterThan(0);
      await store.close();
    });

    if (kind !== 'memory') {
      it(kind === 'sqlite' ? 'keeps keys across a restart' : 'shares keys between instances', async () => {
        const { store, again } = await open();
        const first = await store.appendOnce(msg('kept'), key('k'));
        const second = await again!();
        expect(await second.appendOnce(msg('kept'), key('k'))).toEqual({ message: first.message, replayed: true });
        expect((await second.recent('r', 10)).map((m) => m.id)).toEqual([first.message.id]);
        await second.close();
        if (kind === 'redis') await store.close();
      });
    }

    it('never lets ts run backwards in id order, under concurrent appends', async () => {
      const { store, again } = await open();
      // Redis: two instances appending at once, each with its own clock reading (the finding was 109 of 10,000).
      const other = kind === 'redis' ? await again!() : store;
      const sent: Promise<ChatMessage>[] = [];
      for (let i = 0; i < 2000; i++) sent.push((i % 2 ? other : store).append(msg(`m${i}`, 'ts')));
      await Promise.all(sent);
      const kept = await store.recent('ts', 3000);
      expect(kept.length).toBe(2000);
      const backwards = kept.filter((m, i) => i > 0 && m.ts < kept[i - 1]!.ts);
      expect(backwards).toEqual([]);
      if (other !== store) await other.close();
      await store.close();
    });
  });
}
