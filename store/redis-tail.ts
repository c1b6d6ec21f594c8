/**
 * The one blocking reader of the redis store on each instance: it follows the feed stream (every room's messages,
 * in the order Redis assigned their ids) and hands each message to the store's listeners exactly once.
 */
import type Redis from 'ioredis';
import type { Logger } from '../lib/logger.ts';
import { reconnectDelay, whenReady } from './redis-connection.ts';
import type { ChatMessage, ReplyQuote } from '../lib/chat-types.ts';
import { z } from 'zod';
import { compareIds } from './types.ts';

export interface FeedKeys {
  /** The stream of every room's messages: the ids are the messages' ids. */
  feed: string;
  /** The set of room names that ever had a message (to catch up room by room when the feed was trimmed past us). */
  rooms: string;
  /** The stream of one room (history, `since`, `recent`). */
  room(room: string): string;
  /** The first id issued since the data was created or wiped (redis.ts); gone right after a wipe. */
  first: string;
}

/** A feed position: the last id read and its feed sequence number (null when unknown: an empty feed). */
export interface FeedPosition {
  id: string;
  n: number | null;
}

type Entry = [id: string, fields: string[]];

/**
 * A message's time: its stream id's milliseconds, which Redis took from its own clock when it ordered the message
 * (never less than the previous id's). Entries from before this rule also carry the appending instance's `ts`,
 * which ran backwards against id order between instances; it is not read.
 */
export const timeOf = (id: string) => Number(id.split('-', 1)[0]);

/** A stored quote (`r`), checked: an entry from elsewhere cannot put anything else in a message. */
const quoteSchema = z.object({ id: z.string().max(64), name: z.string().max(64), text: z.string().max(400) });
const readQuote = (raw: string): ReplyQuote | undefined => {
  try {
    const parsed = quoteSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};

/** A stream entry as a message; `n` is the feed sequence number (room streams have none). */
export function parseEntry([id, fields]: Entry): { n: number | null; message: ChatMessage } {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  const n = Number(f.n);
  return {
    n: f.n !== undefined && Number.isSafeInteger(n) ? n : null,
    message: {
      id, room: f.room ?? '', name: f.name ?? '', text: f.text ?? '', ts: timeOf(id), client: f.client || null,
      ...(f.v === undefined ? {} : { verified: f.v === '1' }), // no `v`: not said (open mode, or an older entry)
      ...(f.a ? { author: f.a } : {}),
      ...(f.r ? { replyTo: readQuote(f.r) } : {}),
    },
  };
}

/** Where the feed ends now: a tail started here sees every message appended after this call. */
export async function feedPosition(redis: Redis, keys: FeedKeys): Promise<FeedPosition> {
  const last = (await redis.call('XREVRANGE', keys.feed, '+', '-', 'COUNT', '1')) as Entry[];
  return last[0] ? { id: last[0][0], n: parseEntry(last[0]).n } : { id: '0-0', n: null };
}

export interface TailOptions {
  /** A connection of its own: XREAD BLOCK holds it. */
  redis: Redis;
  keys: FeedKeys;
  from: FeedPosition;
  /** Messages kept per room: bounds the catch-up read of each room. */
  roomRetention: number;
  /** Called with each batch, in feed order; each message once. */
  deliver(messages: ChatMessage[]): void;
  logger?: Logger;
  /** Milliseconds one XREAD blocks before it is issued again. Default 5000. */
  blockMs?: number;
}

const BATCH = 500;

/** Starts the tail; `reached(id)` resolves once it delivered `id`, `stop()` ends it. */
export function startFeedTail(options: TailOptions) {
  const { redis, keys } = options;
  let position: FeedPosition = { ...options.from };
  let running = true;
  const waiters = new Set<{ id: string; done: (reached: boolean) => void }>();

  /**
   * The feed keeps a bounded number of entries; a tail that was away longer (a partition) finds a jump in the
   * sequence numbers. What fell in the jump is still in the room streams: read it from every room, in id order.
   */
  const catchUp = async (after: string, before: string, wiped: boolean): Promise<ChatMessage[]> => {
    const found: ChatMessage[] = [];
    let cursor = '0';
    do {
      const [next, rooms] = (await redis.call('SSCAN', keys.rooms, cursor, 'COUNT', '500')) as [string, string[]];
      cursor = next;
      for (const room of rooms) {
        const entries = (await redis.call('XRANGE', keys.room(room), `(${after}`, `(${before}`, 'COUNT', String(options.roomRetention))) as Entry[];
        for (const entry of entries) found.push({ ...parseEntry(entry).message, room });
      }
    } while (cursor !== '0');
    if (!wiped) options.logger?.warn('Redis feed was trimmed past this instance: caught up from the room streams', { after, before, messages: found.length });
    return found.sort((a, b) => compareIds(a.id, b.id));
  };

  /** Reads the next batch after `position`; returns it with the position it ends at (not yet committed). */
  const readBatch = async (): Promise<{ messages: ChatMessage[]; end: FeedPosition } | null> => {
    const reply = (await redis.call('XREAD', 'COUNT', String(BATCH), 'BLOCK', String(options.blockMs ?? 5000), 'STREAMS', keys.feed, position.id)) as
      | [string, Entry[]][]
      | null;
    const entries = reply?.[0]?.[1];
    if (!entries?.length) return null;
    const messages: ChatMessage[] = [];
    let end = position;
    for (const raw of entries) {
      const { n, message } = parseEntry(raw);
      if (end.n !== null && n !== null && n !== end.n + 1) {
        // A counter that went back, or a first id past our position: the data was wiped under us (FLUSHALL, keys
        // deleted). What was posted since is in the room streams, all of it newer than our position.
        const wiped = n <= end.n || compareIds(String((await redis.call('GET', keys.first)) ?? '0-0'), end.id) > 0;
        if (wiped) {
          options.logger?.warn('Redis data was wiped under this instance (FLUSHALL or its keys deleted): the messages before it are gone, and a client resuming from before it gets a reset', { lastSeen: end.id, next: message.id });
        }
        messages.push(...(await catchUp(end.id, message.id, wiped)));
      }
      messages.push(message);
      end = { id: message.id, n };
    }
    return { messages, end };
  };

  const settle = () => {
    for (const waiter of waiters) if (compareIds(waiter.id, position.id) <= 0) waiter.done(true);
  };

  const loop = async () => {
    let failures = 0;
    let reported = false;
    while (running) {
      try {
        const batch = await readBatch();
        failures = 0;
        reported = false;
        if (!batch || !running) continue;
        // The position moves by whole batches: one whose catch-up failed half-way is read again, whole.
        position = batch.end;
        options.deliver(batch.messages);
        settle();
      } catch (error) {
        if (!running) break;
        if (redis.status !== 'ready') {
          await whenReady(redis, () => !running); // the outage is logged by the connection watcher
          continue;
        }
        if (!reported) options.logger?.error('Redis feed read failed; retrying with backoff', { error: String(error) });
        reported = true;
        await new Promise((resolve) => setTimeout(resolve, reconnectDelay(++failures)));
      }
    }
  };
  const done = loop();

  return {
    /** Resolves true once the tail delivered `id`, false after `ms` without it (the message is stored either way). */
    reached(id: string, ms: number): Promise<boolean> {
      if (compareIds(id, position.id) <= 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const waiter = {
          id,
          done: (reached: boolean) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(reached);
          },
        };
        const timer = setTimeout(() => waiter.done(false), ms);
        waiters.add(waiter);
      });
    },
    /** Stops reading and closes the tail's connection (which ends a pending XREAD). */
    async stop() {
      running = false;
      for (const waiter of waiters) waiter.done(false);
      redis.disconnect();
      await done;
    },
  };
}
