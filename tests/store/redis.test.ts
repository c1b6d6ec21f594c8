import { afterAll, describe, expect, it } from 'bun:test';
import Redis from 'ioredis';
import { createRedisStore, type RedisStoreOptions } from '../../store/redis.ts';
import { feedPosition, startFeedTail } from '../../store/redis-tail.ts';
import { type ChatMessage, type PresenceChange } from '../../lib/chat-types.ts';
import { StoreUnavailableError, type Store } from '../../store/types.ts';
import { waitFor } from '../helpers.ts';
import { captureLog, DB, deleteKeys, SHARED_REDIS, startPartition, startPrivateRedis, storeUrl, uniquePrefix } from './redis-helpers.ts';

const prefixes: string[] = [];
const stores: Store[] = [];
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  for (const prefix of prefixes) await deleteKeys(SHARED_REDIS, DB.store, prefix);
});

/** A prefix on the shared Redis, cleaned up after the file. */
const sharedUrl = (label: string, query: Record<string, string> = {}) => {
  const prefix = uniquePrefix(label);
  prefixes.push(prefix);
  return { prefix, url: storeUrl(SHARED_REDIS, DB.store, prefix, query) };
};
const open = async (options: RedisStoreOptions) => {
  const store = await createRedisStore(options);
  stores.push(store);
  return store;
};
const msg = (room: string, text: string, client: string | null = null) => ({ room, name: 'tester', text, client });
const record = (store: Store) => {
  const seen: ChatMessage[] = [];
  store.subscribe((m) => seen.push(m));
  return seen;
};

describe('store: redis across instances', () => {
  it('gives every instance every message once, in one order, with the ids append returned', async () => {
    const { url } = sharedUrl('order');
    const a = await open({ url });
    const b = await open({ url });
    const seenA = record(a);
    const seenB = record(b);
    // Both instances append at once, into two rooms: Redis decides one order, every instance must follow it.
    const appended = (
      await Promise.all(
        [a, b].map(async (store, s) => {
          const out: ChatMessage[] = [];
          for (let i = 0; i < 40; i++) out.push(await store.append(msg(i % 2 ? 'r1' : 'r2', `s${s}-${i}`, `c${s}`)));
          return out;
        }),
      )
    ).flat();
    await waitFor(() => seenA.length >= 80 && seenB.length >= 80, 'all 80 messages at both instances');
    expect(seenA).toEqual(seenB);
    expect(seenA.length).toBe(80);
    expect(new Set(seenA.map((m) => m.id)).size).toBe(80);
    const byId = new Map(seenA.map((m) => [m.id, m]));
    for (const m of appended) expect(byId.get(m.id)).toEqual(m);
    // The live order is the stored order of each room.
    for (const room of ['r1', 'r2']) {
      expect(seenA.filter((m) => m.room === room).map((m) => m.id)).toEqual((await a.recent(room, 100)).map((m) => m.id));
    }
  });

  it('has the local listeners see an append once, before append resolves', async () => {
    const { url } = sharedUrl('once');
    const a = await open({ url });
    const b = await open({ url });
    const seen = record(a);
    // Many at once, with another instance appending too: the tail has batches to read, append must wait for it.
    const noise = Promise.all(Array.from({ length: 100 }, (_, i) => b.append(msg('r', `noise-${i}`))));
    const mine = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const m = await a.append(msg('r', `local-${i}`));
        expect(seen.some((s) => s.id === m.id)).toBe(true);
        return m;
      }),
    );
    await noise;
    const marker = await b.append(msg('r', 'remote marker'));
    await waitFor(() => seen.some((m) => m.id === marker.id), 'the remote marker');
    expect(seen.length).toBe(201);
    expect(new Set(seen.map((m) => m.id)).size).toBe(201);
    for (const m of mine) expect(seen.filter((s) => s.id === m.id)).toEqual([m]);
  });

  it('catches up from the room streams when the feed was trimmed past a tail', async () => {
    const { url, prefix } = sharedUrl('catchup');
    const writer = await open({ url });
    const redis = new Redis(`${SHARED_REDIS}/${DB.store}`, { protocol: 2 }); // the tail parses RESP2 replies
    const keys = { feed: `${prefix}feed`, rooms: `${prefix}rooms`, room: (room: string) => `${prefix}room:${room}`, first: `${prefix}first-id` };
    try {
      await writer.append(msg('r0', 'before'));
      const from = await feedPosition(redis, keys);
      const written: ChatMessage[] = [];
      for (let i = 0; i < 30; i++) written.push(await writer.append(msg(`r${i % 3}`, `m${i}`)));
      await redis.xtrim(keys.feed, 'MAXLEN', 5); // exact: the first 25 are now only in their rooms
      expect(await redis.xlen(keys.feed)).toBe(5);
      const tailConnection = new Redis(`${SHARED_REDIS}/${DB.store}`, { protocol: 2 });
      const delivered: ChatMessage[] = [];
      const tail = startFeedTail({ redis: tailConnection, keys, from, roomRetention: 100, deliver: (ms) => delivered.push(...ms), blockMs: 200 });
      await waitFor(() => delivered.length >= 30, 'thirty messages from the tail');
      await tail.stop();
      expect(delivered).toEqual(written);
    } finally {
      redis.disconnect();
    }
  });
});

describe('store: redis presence', () => {
  it('shows one instance the members another shares, and their departure', async () => {
    const { url } = sharedUrl('presence');
    const a = await open({ url });
    const b = await open({ url });
    const changes: PresenceChange[][] = [];
    b.onRemotePresence((room, c) => room === 'p' && changes.push(c));
    a.sharePresence('p', { streams: 2, names: { alice: 2 } }, { kind: 'join', name: 'alice' });
    await waitFor(() => changes.length >= 1, 'the join at b');
    expect(changes[0]).toEqual([{ kind: 'join', name: 'alice' }]);
    expect(b.remotePresence('p')).toEqual({ streams: 2, names: { alice: 2 } });
    expect(a.remotePresence('p')).toEqual({ streams: 0, names: {} }); // its own share is not "remote"
    a.sharePresence('p', { streams: 1, names: { ally: 1 } }, { kind: 'rename', name: 'ally', from: 'alice' });
    await waitFor(() => changes.length >= 2, 'the rename at b');
    expect(changes[1]).toEqual([{ kind: 'rename', name: 'ally', from: 'alice' }]);
    a.sharePresence('p', { streams: 0, names: {} }, { kind: 'leave', name: 'ally' });
    await waitFor(() => changes.length >= 3, 'the leave at b');
    expect(changes[2]).toEqual([{ kind: 'leave', name: 'ally' }]);
    expect(b.remotePresence('p')).toEqual({ streams: 0, names: {} });
  });

  it('expires the share of an instance that stopped refreshing it', async () => {
    const { url, prefix } = sharedUrl('expiry', { presenceTtl: '600' });
    const b = await open({ url });
    const changes: PresenceChange[][] = [];
    b.onRemotePresence((room, c) => room === 'p' && changes.push(c));
    // A "crashed" instance: one share written with Redis's clock and never refreshed, then its notice.
    const redis = new Redis(`${SHARED_REDIS}/${DB.store}`);
    try {
      const [seconds, micros] = await redis.time();
      const expiry = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + 600;
      await redis.hset(`${prefix}presence:p`, 'ghost', `${expiry} ${JSON.stringify({ streams: 1, names: { casper: 1 } })}`);
      await redis.publish(`${prefix}presence@${DB.store}`, JSON.stringify({ room: 'p', from: 'ghost', change: null }));
      await waitFor(() => changes.length >= 1, 'the ghost joining');
      expect(b.remotePresence('p').names).toEqual({ casper: 1 });
      await waitFor(() => changes.length >= 2, 'the ghost expiring', 5000);
      expect(changes[1]).toEqual([{ kind: 'leave', name: 'casper' }]);
      expect(b.remotePresence('p')).toEqual({ streams: 0, names: {} });
      expect(await redis.hexists(`${prefix}presence:p`, 'ghost')).toBe(0);
    } finally {
      redis.disconnect();
    }
  });

  it('ignores shares and notices it cannot read, logs them once, and counts the good ones', async () => {
    const { url, prefix } = sharedUrl('malformed', { presenceTtl: '300' }); // a heartbeat re-reads every 100 ms
    const a = await open({ url });
    const { logger, lines } = captureLog();
    const b = await open({ url, logger });
    const changes: PresenceChange[][] = [];
    b.onRemotePresence((room, c) => room === 'p' && changes.push(c));
    const redis = new Redis(`${SHARED_REDIS}/${DB.store}`);
    try {
      // Fields another (broken or newer) instance might write, each with a live expiry in Redis's clock.
      const [seconds, micros] = await redis.time();
      const expiry = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + 60_000;
      for (const [field, share] of [['null', 'null'], ['text', '{not json'], ['no-names', '{"streams":1}'], ['string-count', '{"streams":"2","names":{"x":"many"}}']])
        await redis.hset(`${prefix}presence:p`, `bad-${field}`, `${expiry} ${share}`);
      for (const notice of ['null', '{oops', '{"room":7,"from":"x"}']) await redis.publish(`${prefix}presence@${DB.store}`, notice);
      a.sharePresence('p', { streams: 2, names: { alice: 2 } }, { kind: 'join', name: 'alice' });
      await waitFor(() => changes.length >= 1, 'the join at b');
      expect(changes[0]).toEqual([{ kind: 'join', name: 'alice' }]);
      expect(b.remotePresence('p')).toEqual({ streams: 2, names: { alice: 2 } });
      await Bun.sleep(500); // five heartbeats, each reading the bad fields again
      expect(b.remotePresence('p')).toEqual({ streams: 2, names: { alice: 2 } });
      expect(lines.filter((l) => l.msg.includes('presence')).length).toBe(1);
      // b goes on: it stores and reads messages, and sees alice leave.
      const sent = await b.append(msg('p', 'still here'));
      expect((await a.since('p', '0', 10)).messages.map((m) => m.id)).toContain(sent.id);
      a.sharePresence('p', { streams: 0, names: {} }, { kind: 'leave', name: 'alice' });
      await waitFor(() => changes.length >= 2, 'the leave at b');
      expect(changes[1]).toEqual([{ kind: 'leave', name: 'alice' }]);
    } finally {
      redis.disconnect();
    }
  });
});

describe('store: redis outage', () => {
  it('rejects with StoreUnavailableError while Redis is down, logs once, and resumes the tail where it was', async () => {
    const redis = await startPrivateRedis();
    const url = storeUrl(redis.url, 0, 'outage:');
    const logA = captureLog();
    const a = await createRedisStore({ url, logger: logA.logger });
    const b = await createRedisStore({ url });
    try {
      const seen = record(a);
      const acked = [await a.append(msg('r', 'before-a')), await b.append(msg('r', 'before-b'))];
      await waitFor(() => seen.length === 2, 'the first two messages');
      await redis.kill();
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        const failed = await a.append(msg('r', `down-${i}`)).then(() => null, (error: unknown) => error);
        expect(failed).toBeInstanceOf(StoreUnavailableError);
        expect(Date.now() - started).toBeLessThan(1000); // fails fast, never queued until Redis is back
      }
      expect(await a.since('r', acked[0]!.id, 10).catch((e: unknown) => e)).toBeInstanceOf(StoreUnavailableError);
      expect(await a.recent('r', 10).catch((e: unknown) => e)).toBeInstanceOf(StoreUnavailableError);
      await redis.start();
      // b posts first: a's tail must pick it up from where it stopped, not from "now".
      acked.push(await waitFor(() => b.append(msg('r', 'after-b')).catch(() => null), 'b appending again'));
      acked.push(await waitFor(() => a.append(msg('r', 'after-a')).catch(() => null), 'a appending again'));
      await waitFor(() => seen.length >= 4, 'the messages appended after the outage');
      expect(seen.map((m) => m.id)).toEqual(acked.map((m) => m.id));
      expect((await a.recent('r', 10)).map((m) => m.id)).toEqual(acked.map((m) => m.id));
      await waitFor(() => logA.lines.some((l) => l.msg.startsWith('Redis reachable again')), 'the recovery line');
      expect(logA.lines.filter((l) => l.msg.startsWith('Redis unavailable'))).toHaveLength(1);
      expect(logA.lines.filter((l) => l.level === 'error')).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await redis.remove();
    }
  });

  it('resumes a tail cut off from Redis at the last id it delivered, while other instances went on', async () => {
    const { url, prefix } = sharedUrl('partition');
    const partition = await startPartition(6379);
    const logA = captureLog();
    const a = await open({ url: storeUrl(`redis://127.0.0.1:${partition.port}`, DB.store, prefix), logger: logA.logger });
    const b = await open({ url });
    try {
      const seen = record(a);
      const acked = [await a.append(msg('r', 'before'))];
      partition.cut();
      expect(await a.append(msg('r', 'cut off')).catch((e: unknown) => e)).toBeInstanceOf(StoreUnavailableError);
      // Redis is up for b: these land while a's tail cannot read.
      for (let i = 0; i < 5; i++) acked.push(await b.append(msg(i % 2 ? 'r' : 'q', `meanwhile-${i}`)));
      expect(seen.map((m) => m.id)).toEqual([acked[0]!.id]);
      partition.heal();
      await waitFor(() => seen.length >= acked.length, 'the messages appended meanwhile, at a');
      acked.push(await waitFor(() => a.append(msg('r', 'healed')).catch(() => null), 'a appending again'));
      expect(seen).toEqual(acked);
      expect(logA.lines.filter((l) => l.msg.startsWith('Redis unavailable'))).toHaveLength(1);
    } finally {
      await partition.close();
    }
  });
});
