/**
 * Presence shared through Redis: a hash per room with one field per instance (its share, stamped with an expiry
 * in Redis's own clock, so instances' clocks need not agree), refreshed by a heartbeat; a pub/sub notice after
 * each change tells the other instances to re-read that room. A crashed instance stops refreshing: its field
 * expires, and every instance's next sweep reports its members as gone.
 */
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../lib/logger.ts';
import { createEmitter } from './emitter.ts';
import { defineScript } from './redis-connection.ts';
import type { Presence, PresenceChange } from '../lib/chat-types.ts';
import {
  diffPresence, EMPTY, IGNORED_REPORT_MS, namesIn, noticeSchema, READ_LUA, readJson, SHARE_LUA, shareSchema, streamsIn,
  type Notice, type PresenceKeys,
} from './redis-presence-wire.ts';
import type { PresenceShare, SharedPresence } from './types.ts';

export interface RedisPresenceOptions {
  commands: Redis;
  /** A connection of its own: SUBSCRIBE holds it. */
  subscriber: Redis;
  keys: PresenceKeys;
  /** Milliseconds a share lives without a refresh; refreshed every third of it. */
  ttlMs: number;
  logger?: Logger;
}


export async function createRedisPresence(options: RedisPresenceOptions): Promise<SharedPresence & { close(): Promise<void> }> {
  const { commands, subscriber, keys, ttlMs } = options;
  const instance = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** This instance's shares, by room (bounded by its open streams). */
  const mine = new Map<string, PresenceShare>();
  /** Rooms whose last write failed (Redis away): written again by the heartbeat. */
  const unsynced = new Set<string>();
  /** The other instances' shares, by room then instance (only rooms where some other instance has streams). */
  const others = new Map<string, Map<string, PresenceShare>>();
  const emitter = createEmitter<{ room: string; changes: PresenceChange[] }>();
  const renames = createEmitter<{ room: string; client: string; name: string }>();
  const typists = createEmitter<{ room: string; client: string; name: string }>();
  let closed = false;
  let resyncDue = false;
  const shareScript = defineScript(commands, 'threadchatSharePresence', SHARE_LUA, 1);
  const readScript = defineScript(commands, 'threadchatReadPresence', READ_LUA, 1);
  let ignoredSinceReport = 0;
  let reportedAt = -Infinity;
  /** Counts a share or notice that could not be used; warns at most once per IGNORED_REPORT_MS. */
  const ignore = (what: 'share' | 'notice', problem: string, from?: string) => {
    ignoredSinceReport++;
    if (Date.now() - reportedAt < IGNORED_REPORT_MS) return;
    reportedAt = Date.now();
    options.logger?.warn('Ignoring presence data another instance wrote that this one cannot read', { what, from, problem, ignored: ignoredSinceReport });
    ignoredSinceReport = 0;
  };

  const write = async (room: string, notice: Notice | null) => {
    const share = mine.get(room);
    try {
      await shareScript(keys.presence(room), instance, String(ttlMs), share ? JSON.stringify(share) : '', keys.channel, notice ? JSON.stringify(notice) : '');
      unsynced.delete(room);
    } catch {
      unsynced.add(room); // the outage itself is logged by the connection watcher
    }
  };

  /** Re-reads a room's shares (dropping expired ones) and reports what changed to the listeners. */
  const refresh = async (room: string, hint: Presence['change']) => {
    let flat: string[];
    try {
      flat = (await readScript(keys.presence(room))) as string[];
    } catch {
      return; // Redis away: the heartbeat after it is back reads again
    }
    const next = new Map<string, PresenceShare>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (flat[i] === instance) continue;
      const share = readJson(shareSchema, flat[i + 1]!);
      if ('value' in share) next.set(flat[i]!, share.value);
      else ignore('share', share.problem, flat[i]);
    }
    const before = others.get(room);
    if (next.size > 0) others.set(room, next);
    else others.delete(room);
    const changes = diffPresence(namesIn(before), namesIn(next), hint);
    if (changes.length > 0 || streamsIn(before) !== streamsIn(next)) emitter.emit({ room, changes });
  };

  /** Every room with a hash: after start and after a reconnect (notices sent meanwhile were missed). */
  const resync = async () => {
    const rooms = new Set<string>(others.keys());
    const prefix = keys.presence('');
    try {
      let cursor = '0';
      do {
        const [next, found] = (await commands.call('SCAN', cursor, 'MATCH', keys.presencePattern, 'COUNT', '500')) as [string, string[]];
        cursor = next;
        for (const key of found) rooms.add(key.slice(prefix.length));
      } while (cursor !== '0');
    } catch {
      resyncDue = true; // Redis away: the heartbeat tries again
      return;
    }
    resyncDue = false;
    await Promise.all([...rooms].map((room) => refresh(room, null)));
  };

  subscriber.on('message', (channel: string, raw: string) => {
    if (channel !== keys.channel) return;
    const notice = readJson(noticeSchema, raw);
    if (!('value' in notice)) return ignore('notice', notice.problem);
    if (notice.value.from === instance) return;
    const { room, rename, typing } = notice.value;
    if (typing) typists.emit({ room, ...typing });
    else if (rename) renames.emit({ room, ...rename });
    else void refresh(room, notice.value.change ?? null);
  });
  // Back after an outage: our shares may have expired meanwhile, and others' notices were missed.
  subscriber.on('ready', () => {
    if (closed) return;
    for (const room of mine.keys()) void write(room, { room, from: instance, change: null });
    void resync();
  });
  await subscriber.subscribe(keys.channel);
  await resync();
  /** Keeps this instance's shares alive, retries failed writes, and notices other instances' expired shares. */
  const heartbeat = setInterval(() => {
    for (const room of new Set([...mine.keys(), ...unsynced])) void write(room, null);
    for (const room of others.keys()) void refresh(room, null);
    if (resyncDue) void resync();
  }, Math.max(100, Math.floor(ttlMs / 3)));

  return {
    sharePresence(room, share, change) {
      if (closed) return;
      if (share.streams > 0) mine.set(room, { streams: share.streams, names: { ...share.names }, ...(share.clients ? { clients: { ...share.clients } } : {}) });
      else mine.delete(room);
      void write(room, { room, from: instance, change });
    },
    remotePresence(room) {
      const shares = others.get(room);
      if (!shares) return EMPTY;
      const names: Record<string, number> = {};
      const clients: Record<string, string> = {};
      for (const share of shares.values()) {
        for (const [name, n] of Object.entries(share.names)) names[name] = (names[name] ?? 0) + n;
        for (const [client, name] of Object.entries(share.clients ?? {})) clients[client] = client in clients && clients[client] !== name ? '' : name;
      }
      return { streams: streamsIn(shares), names, ...(Object.keys(clients).length > 0 ? { clients } : {}) };
    },
    onRemotePresence(listener) {
      return emitter.subscribe(({ room, changes }) => listener(room, changes));
    },
    renameElsewhere(room, client, name) {
      if (closed) return;
      // Fire and forget on the notice channel: the instance holding the streams renames them and shares that as
      // a rename change, which every instance (this one too) reports in the room's presence.
      const notice: Notice = { room, from: instance, change: null, rename: { client, name } };
      commands.publish(keys.channel, JSON.stringify(notice)).catch(() => {}); // Redis away: the rename is lost, as a POST would be refused
    },
    onRemoteRename(listener) {
      return renames.subscribe(({ room, client, name }) => listener(room, client, name));
    },
    typingElsewhere(room, client, name) {
      if (closed) return;
      const notice: Notice = { room, from: instance, change: null, typing: { client, name } };
      commands.publish(keys.channel, JSON.stringify(notice)).catch(() => {}); // Redis away: nobody elsewhere sees it, nothing is lost
    },
    onRemoteTyping(listener) {
      return typists.subscribe(({ room, client, name }) => listener(room, client, name));
    },
    /** Withdraws this instance's shares (the others see its members leave now, not at expiry). */
    async close() {
      closed = true;
      clearInterval(heartbeat);
      const rooms = [...mine.keys()];
      mine.clear();
      await Promise.all(rooms.map((room) => write(room, { room, from: instance, change: null })));
    },
  };
}
