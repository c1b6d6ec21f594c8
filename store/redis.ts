/**
 * The redis backend: several server instances share rooms through Redis Streams.
 *
 * Keys (all under the prefix, default `threadchat:`):
 * - `feed`: one stream of every room's messages. Its ids are the message ids: one id sequence for all rooms, so
 *   each instance follows every room with a single blocking XREAD (see redis-tail.ts), and ids are still
 *   strictly increasing within each room.
 * - `room:<room>`: the room's history under the same ids (XRANGE for `since`, XREVRANGE for `before` and `recent`),
 *   trimmed with MAXLEN ~ retention; XINFO tells whether a position fell out of it (the gap flag) and whether it
 *   was ever trimmed (the trimmed flag of `before`).
 * - `seq`: a counter stamped on each feed entry, so a tail that finds a jump knows the feed was trimmed past it.
 * - `rooms`: the set of room names, to catch up room by room after such a jump.
 * - `first-id`: the first id issued since the data was created or wiped: older ids are not this data's.
 * - `idem:<scope length>:<scope>:<key>`: an idempotency key, `FINGERPRINT ID`, expiring after 24 hours.
 * - `edits:<room>`: the room's edited messages, id → `{"text", "edited"}`, laid over every read (redis-edits.ts).
 * - `presence:<room>`: shared presence (redis-presence.ts).
 * - `account:<name>`, `accounts`, `token:<digest>`, `tokens-of:<name>`, `session:<digest>`, `sessions-of:<subject>`:
 *   accounts, access tokens and sessions (redis-identity.ts), their changes told on `identity@<db>`.
 *
 * One Lua script appends to the feed and the room stream atomically, so every instance sees the same messages
 * in the same order with the same ids. `append` does not notify listeners itself: the tail does, for local and
 * remote appends alike (exactly once each), and `append` resolves after the tail delivered its message, so a
 * 201 means the message is stored and already in this instance's fan-out.
 */
import type Redis from 'ioredis';
import type { Logger } from '../lib/logger.ts';
import { createEmitter } from './emitter.ts';
import { connectRedis, defineScript, globEscape, parseRedisUrl, unavailableOnFailure, watchOutages } from './redis-connection.ts';
import { createRedisIdentityOn } from './redis-identity.ts';
import { createRedisPresence } from './redis-presence.ts';
import { createRedisRemoval } from './redis-removal.ts';
import { listRooms } from './redis-rooms.ts';
import { createRedisEdits } from './redis-edits.ts';
import { createRedisSearch } from './redis-search.ts';
import { feedPosition, parseEntry, startFeedTail, timeOf, type FeedKeys } from './redis-tail.ts';
import type { ChatMessage, NewMessage } from '../lib/chat-types.ts';
import type { IdentityStore } from './identity-types.ts';
import {
  compareIds, IDEMPOTENCY_TTL_MS, IdempotencyConflictError,
  type AppendOnce, type BeforePage, type IdempotencyKey, type SharedPresence, type SincePage, type Store,
} from './types.ts';

export interface RedisStoreOptions {
  /** `redis://host:port/db` (or `rediss://`), optionally `?prefix=P&presenceTtl=MS` (see parseRedisUrl). */
  url: string;
  /** Messages kept per room (MAXLEN ~: Redis trims whole nodes, so somewhat more may stay). Default 10,000. */
  retention?: number;
  /** Entries kept in the feed of all rooms: how far a tail may fall behind before it catches up room by room. Default 10,000. */
  feedRetention?: number;
  /** Receives one line per outage (not per failed request). */
  logger?: Logger;
  /** Milliseconds `append` waits for this instance's tail to deliver its message before resolving anyway. Default 2000. */
  deliveryWaitMs?: number;
  /** How long an idempotency key is kept (a key with a TTL, so every instance sees it). Default IDEMPOTENCY_TTL_MS. */
  idempotencyTtlMs?: number;
}

/**
 * KEYS: feed, room stream, rooms set, counter, idempotency key, first id. ARGV: room, feed maxlen, room maxlen, name,
 * text, client, fingerprint ('' for no idempotency key), key lifetime in ms, verified ('1', '0'; '' for not said:
 * the entry then has no `v`, as entries from before the mark have none), author (`a`; '' for the anonymous: none), the quote it answers (`r`, JSON; '' for none).
 * Returns {'stored', id}, or {'held', 'FINGERPRINT ID'} when the idempotency key was stored before (nothing written).
 * Entries carry no `ts`: a message's time is its id's milliseconds, Redis's clock when it ordered the message, so
 * `ts` never runs backwards in id order, whichever instance appended (instance clocks disagree by milliseconds).
 */
const APPEND_LUA = `
if ARGV[7] ~= '' then
  local held = redis.call('GET', KEYS[5])
  if held then return {'held', held} end
end
local fields = {'room', ARGV[1], 'name', ARGV[4], 'text', ARGV[5], 'client', ARGV[6]}
if ARGV[9] ~= '' then fields[#fields + 1] = 'v'; fields[#fields + 1] = ARGV[9] end
if ARGV[10] ~= '' then fields[#fields + 1] = 'a'; fields[#fields + 1] = ARGV[10] end
if ARGV[11] ~= '' then fields[#fields + 1] = 'r'; fields[#fields + 1] = ARGV[11] end
local n = redis.call('INCR', KEYS[4])
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'n', n, unpack(fields))
local stored = redis.pcall('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], id, unpack(fields))
if type(stored) == 'table' and stored.err then
  redis.call('XDEL', KEYS[1], id)
  redis.call('DECR', KEYS[4])
  return stored
end
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SET', KEYS[6], id, 'NX')
if ARGV[7] ~= '' then redis.call('SET', KEYS[5], ARGV[7] .. ' ' .. id, 'PX', ARGV[8]) end
return {'stored', id}`;

const MAX_U64 = (1n << 64n) - 1n;

/** The first stream id after `id` (an integer or `ms-seq`), or null when there is none or `id` is not an id. */
function idAfter(id: string): string | null {
  const match = /^(\d{1,20})(?:-(\d{1,20}))?$/.exec(id);
  if (!match) return null;
  const ms = BigInt(match[1]!);
  const seq = BigInt(match[2] ?? '0');
  if (ms > MAX_U64 || seq > MAX_U64) return null;
  if (seq < MAX_U64) return `${ms}-${seq + 1n}`;
  return ms < MAX_U64 ? `${ms + 1n}-0` : null;
}

/** `id` as a whole stream id (`ms-seq`; a bare integer is `ms-0`), or null when it is not one. */
function fullId(id: string): string | null {
  const match = /^(\d{1,20})(?:-(\d{1,20}))?$/.exec(id);
  if (!match || BigInt(match[1]!) > MAX_U64 || BigInt(match[2] ?? '0') > MAX_U64) return null;
  return `${BigInt(match[1]!)}-${BigInt(match[2] ?? '0')}`;
}

/** A field of an XINFO STREAM reply (a flat [name, value, ...] list). */
const infoField = (info: unknown, name: string) => {
  if (!Array.isArray(info)) return undefined;
  const at = info.indexOf(name);
  return at >= 0 && at % 2 === 0 ? info[at + 1] : undefined;
};

/** Whether retention ever trimmed a room's stream: it was sent more entries than it holds (Redis 7's entries-added). */
const everTrimmed = (info: unknown) => Number(infoField(info, 'entries-added')) > Number(infoField(info, 'length'));

/**
 * Whether messages after the position just before `start` were trimmed. Redis 7.0 does not move
 * max-deleted-entry-id when MAXLEN trims, so: something was trimmed (more entries added than held) and the
 * position is older than the first entry held. A position at exactly the last trimmed entry reads as a gap too
 * (its successor is unknown once trimmed): the client gets a `reset` it did not need, never a silent loss.
 */
function trimmedPast(info: unknown, start: string): boolean {
  const deleted = infoField(info, 'max-deleted-entry-id');
  if (typeof deleted === 'string' && deleted !== '0-0') return compareIds(start, deleted) <= 0;
  const first = infoField(info, 'first-entry') as [string, string[]] | null | undefined;
  return everTrimmed(info) && !!first && compareIds(start, first[0]) <= 0;
}

const toMessages = (entries: unknown) => (entries as [string, string[]][]).map((entry) => parseEntry(entry).message);

/**
 * The first id of this Redis's threadchat data (`first-id`), set by the append script with the first message after
 * the keys were created or wiped (FLUSHALL): every id it issues is that one or newer, so an older id is from
 * before a flush (SincePage.unknown), and so is any id while the key is missing (nothing issued since the wipe).
 * Read with every history read, never cached: a flush under running instances must be seen at once. Data from
 * before this rule is taken as one generation from the start (its `first-ms`, else 0).
 */
async function adoptOlderData(redis: Redis, prefix: string, feed: string) {
  if (Number(await redis.call('XLEN', feed)) === 0) return;
  const firstMs = await redis.call('GET', `${prefix}first-ms`);
  await redis.call('SET', `${prefix}first-id`, `${firstMs ?? 0}-0`, 'NX');
}

/** The id a reply of the append script names, and whether it was stored now or held under the idempotency key. */
function parseAppendReply(reply: unknown): { stored: string } | { fingerprint: string; id: string } {
  const [what, value] = reply as [string, string];
  if (what === 'stored') return { stored: value };
  const space = value.indexOf(' ');
  return { fingerprint: value.slice(0, space), id: value.slice(space + 1) };
}

export async function createRedisStore(options: RedisStoreOptions): Promise<Store & SharedPresence & IdentityStore> {
  const target = parseRedisUrl(options.url);
  const retention = options.retention ?? 10_000;
  const { prefix } = target;
  const keys: FeedKeys & { seq: string } = {
    feed: `${prefix}feed`,
    seq: `${prefix}seq`,
    first: `${prefix}first-id`,
    rooms: `${prefix}rooms`,
    room: (room) => `${prefix}room:${room}`,
  };
  const editsKey = (room: string) => `${prefix}edits:${room}`;
  const connections: Redis[] = [];
  try {
    connections.push(await connectRedis(target, 'commands', 5000));
    connections.push(await connectRedis(target, 'tail'));
    connections.push(await connectRedis(target, 'presence'));
  } catch (error) {
    connections.forEach((c) => c.disconnect());
    throw error;
  }
  const [commands, tailConnection, subscriber] = connections as [Redis, Redis, Redis];
  const outages = watchOutages(options.logger, { commands, tail: tailConnection, presence: subscriber });
  const appendScript = defineScript(commands, 'threadchatAppend', APPEND_LUA, 6);

  const emitter = createEmitter<ChatMessage>();
  let from;
  try {
    from = await feedPosition(tailConnection, keys);
    await adoptOlderData(commands, prefix, keys.feed);
  } catch (error) {
    connections.forEach((c) => c.disconnect());
    throw error;
  }
  const tail = startFeedTail({
    redis: tailConnection,
    keys,
    from,
    roomRetention: retention,
    deliver: (messages) => messages.forEach((m) => emitter.emit(m)),
    logger: options.logger,
  });
  const presence = await createRedisPresence({
    commands,
    subscriber,
    keys: {
      presence: (room) => `${prefix}presence:${room}`,
      presencePattern: `${globEscape(prefix)}presence:*`,
      channel: `${prefix}presence@${target.db}`,
    },
    ttlMs: target.presenceTtlMs ?? 15_000,
    logger: options.logger,
  }).catch(async (error: unknown) => {
    await tail.stop();
    connections.forEach((c) => c.disconnect());
    throw error;
  });
  // Accounts, tokens and sessions: commands on the command connection, changes heard on the presence subscriber.
  const { close: closeIdentity, ...identity } = await createRedisIdentityOn({
    commands,
    subscriber,
    prefix,
    channel: `${prefix}identity@${target.db}`,
    logger: options.logger,
  }).catch(async (error: unknown) => {
    await presence.close();
    await tail.stop();
    connections.forEach((c) => c.disconnect());
    throw error;
  });
  // Deletions: told to every instance on their own channel, heard on the presence subscriber.
  const { close: closeRemoval, ...removal } = await createRedisRemoval({
    commands, subscriber, feed: keys.feed, room: keys.room, channel: `${prefix}removed@${target.db}`, logger: options.logger,
  });
  // Edits: kept beside each room's stream, told to every instance on their own channel.
  const { close: closeEdits, ...edits } = await createRedisEdits({
    commands, subscriber, room: keys.room, edits: editsKey, channel: `${prefix}edited@${target.db}`, retention, logger: options.logger,
  });
  let closing: Promise<void> | null = null;

  /**
   * One range of a room's stream, read in one transaction with the XINFO of that stream and of the feed, and how
   * many edits the room holds (none: its messages need no second read for them).
   */
  const rangeWithInfo = async (op: string, room: string, range: [string, ...string[]]) => {
    const key = keys.room(room);
    const replies = await unavailableOnFailure(op, async () => {
      const result = await commands.multi().call(...range).call('XINFO', 'STREAM', key).call('XINFO', 'STREAM', keys.feed).call('GET', keys.first).call('HLEN', editsKey(room)).exec();
      if (!result) throw new Error('transaction aborted');
      return result;
    });
    const [rangeError, entries] = replies[0]!;
    if (rangeError) throw rangeError;
    const [, info] = replies[1]!; // an error here means no such stream: nothing was ever trimmed
    const [, feedInfo] = replies[2]!;
    const lastIssued = feedInfo ? String(infoField(feedInfo, 'last-generated-id') ?? '0-0') : '0-0';
    const firstId = replies[3]![1] as string | null;
    /** Whether this Redis issued `id` (since its data was last wiped): between the first id and the last. */
    const issued = (id: string) => firstId !== null && compareIds(id, firstId) >= 0 && compareIds(id, lastIssued) <= 0;
    const edited = Number(replies[4]![1] ?? 0);
    return { range: entries, info, issued, edited };
  };

  /** Appends through the script; `key`, when given, makes it once per idempotency key. */
  const appendOnce = async (input: NewMessage, key: IdempotencyKey | null): Promise<AppendOnce> => {
    const idemKey = key ? `${prefix}idem:${key.scope.length}:${key.scope}:${key.key}` : `${prefix}idem:`;
    const reply = parseAppendReply(
      await unavailableOnFailure('append', () =>
        appendScript(keys.feed, keys.room(input.room), keys.rooms, keys.seq, idemKey, keys.first,
          input.room, String(options.feedRetention ?? 10_000), String(retention), input.name, input.text, input.client ?? '',
          key?.fingerprint ?? '', String(options.idempotencyTtlMs ?? IDEMPOTENCY_TTL_MS), input.verified === undefined ? '' : input.verified ? '1' : '0', input.author ?? '', input.replyTo ? JSON.stringify(input.replyTo) : ''),
      ),
    );
    if (!('stored' in reply)) {
      if (reply.fingerprint !== key?.fingerprint) throw new IdempotencyConflictError('the key was used with another message');
      return { message: { ...input, id: reply.id, ts: timeOf(reply.id) }, replayed: true };
    }
    // Stored: the 201 is true from here on. Waiting for the tail keeps "in the fan-out once append resolves".
    await tail.reached(reply.stored, options.deliveryWaitMs ?? 2000);
    return { message: { ...input, id: reply.stored, ts: timeOf(reply.stored) }, replayed: false };
  };

  return {
    ...identity,
    ...removal,
    find: edits.find, // the entry with its edit
    edit: edits.edit,
    onEdited: edits.onEdited,
    search: createRedisSearch({ commands, room: keys.room, edits: editsKey, overlay: edits.overlay, retention }),
    kind: 'redis',
    rooms: (limit: number) => listRooms(commands, keys.rooms, keys.room, limit),
    append: async (input) => (await appendOnce(input, null)).message,
    appendOnce,
    async since(room, afterId, limit): Promise<SincePage> {
      const start = idAfter(afterId);
      const unknown = { messages: [], more: false, gap: false, unknown: true };
      if (start === null) return unknown;
      const { range, info, issued, edited } = await rangeWithInfo('since', room, ['XRANGE', keys.room(room), start, '+', 'COUNT', String(limit + 1)]);
      if (afterId !== '0' && !issued(afterId)) return unknown;
      const messages = await edits.overlay(room, toMessages(range), edited);
      return { messages: messages.slice(0, limit), more: messages.length > limit, gap: trimmedPast(info, start) };
    },
    async before(room, beforeId, limit): Promise<BeforePage> {
      const end = fullId(beforeId);
      if (end === '0-0') return { messages: [], more: false, trimmed: false }; // nothing is older than the start
      const unknown = { messages: [], more: false, trimmed: false, unknown: true };
      if (end === null) return unknown;
      // `(` makes the end exclusive: the page stops just before `beforeId`.
      const { range, info, issued, edited } = await rangeWithInfo('before', room, ['XREVRANGE', keys.room(room), `(${end}`, '-', 'COUNT', String(limit + 1)]);
      if (!issued(end)) return unknown;
      const messages = (await edits.overlay(room, toMessages(range), edited)).reverse();
      const more = messages.length > limit;
      return { messages: messages.slice(more ? 1 : 0), more, trimmed: !more && everTrimmed(info) };
    },
    async recent(room, k) {
      if (k <= 0) return [];
      const [[rangeError, entries], [, edited]] = await unavailableOnFailure('recent', async () => {
        const result = await commands.multi().call('XREVRANGE', keys.room(room), '+', '-', 'COUNT', String(k)).call('HLEN', editsKey(room)).exec();
        if (!result) throw new Error('transaction aborted');
        return result as [[Error | null, unknown], [Error | null, unknown]];
      });
      if (rangeError) throw rangeError;
      return (await edits.overlay(room, toMessages(entries), Number(edited ?? 0))).reverse();
    },
    subscribe: emitter.subscribe,
    sharePresence: presence.sharePresence,
    remotePresence: presence.remotePresence,
    onRemotePresence: presence.onRemotePresence,
    renameElsewhere: presence.renameElsewhere,
    onRemoteRename: presence.onRemoteRename,
    typingElsewhere: presence.typingElsewhere,
    onRemoteTyping: presence.onRemoteTyping,
    close() {
      closing ??= (async () => {
        await presence.close(); // withdraw this instance's members before the connection goes
        await closeIdentity();
        await closeRemoval();
        await closeEdits();
        outages.stop();
        await tail.stop();
        for (const connection of [commands, subscriber]) {
          await connection.quit().catch(() => connection.disconnect());
        }
      })();
      return closing;
    },
  } satisfies Store & SharedPresence & IdentityStore;
}
