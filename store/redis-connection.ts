/**
 * Connections to Redis for the redis store: options that fail fast instead of queueing while Redis is away,
 * reconnection with backoff, one log line per outage, and the mapping of client errors to StoreUnavailableError.
 */
import Redis from 'ioredis';
import type { Logger } from '../lib/logger.ts';
import { StoreUnavailableError } from './types.ts';

/** Where the store lives: the ioredis URL without our own query parameters, and what those said. */
export interface RedisTarget {
  url: string;
  db: number;
  /** Prepended to every key and to the presence channel. Default `threadchat:`. */
  prefix: string;
  /** Milliseconds an instance's presence share lives without a refresh. Default 15,000. */
  presenceTtlMs?: number;
}

/**
 * Reads `redis://host:port/db?prefix=P&presenceTtl=MS`: `prefix` lets several deployments (or tests) share one
 * Redis database; `presenceTtl` is how long a silent instance's members stay listed.
 */
export function parseRedisUrl(raw: string): RedisTarget {
  const url = new URL(raw);
  const prefix = url.searchParams.get('prefix') ?? 'threadchat:';
  const ttl = url.searchParams.get('presenceTtl');
  url.searchParams.delete('prefix');
  url.searchParams.delete('presenceTtl');
  const db = Number(url.pathname.replace(/^\//, '') || '0');
  if (!Number.isInteger(db) || db < 0) throw new Error(`redis URL ${raw}: the database must be a whole number`);
  if (ttl !== null && !/^\d+$/.test(ttl)) throw new Error(`redis URL ${raw}: presenceTtl must be milliseconds`);
  return { url: url.toString(), db, prefix, ...(ttl !== null ? { presenceTtlMs: Number(ttl) } : {}) };
}

/** Milliseconds before reconnect attempt `times` (1, 2, ...): 100, 200, 400, ... capped at 2 s, with jitter. */
export const reconnectDelay = (times: number) => Math.min(100 * 2 ** Math.min(times - 1, 5), 2000) + Math.floor(Math.random() * 100);

/**
 * A connection that never queues or replays a command: while Redis is away a command fails at once (so a POST
 * gets 503 instead of hanging), and a command in flight when the connection drops fails rather than being sent
 * twice after the reconnect (a resent XADD would store a message twice). `role` names it in CLIENT LIST.
 */
export async function connectRedis(target: RedisTarget, role: string, commandTimeoutMs?: number): Promise<Redis> {
  const redis = new Redis(target.url, {
    lazyConnect: true,
    connectionName: `threadchat-${role}`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: reconnectDelay,
    connectTimeout: 5000,
    protocol: 2, // RESP2 replies: XREAD and XINFO as plain arrays, the shapes the parsers here expect
    ...(commandTimeoutMs ? { commandTimeout: commandTimeoutMs } : {}),
  });
  let lastError = '';
  // Reported through the outage log; without a listener ioredis would print every reconnect failure itself.
  redis.on('error', (error: Error) => void (lastError = error.message));
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(`cannot reach Redis at ${redactUrl(target.url)}: ${lastError || String((error as Error)?.message ?? error)}`);
  }
  return redis;
}

export const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');

/** Resolves once `redis` is ready again, or when `stopped()` turns true (checked every 250 ms). */
export function whenReady(redis: Redis, stopped: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (redis.status === 'ready' || stopped()) done();
    }, 250);
    const done = () => {
      clearInterval(timer);
      redis.off('ready', done);
      resolve();
    };
    redis.on('ready', done);
  });
}

/**
 * Logs an outage once: a warning when the first connection goes down, a notice when every one is back; nothing
 * per failed command or per reconnect attempt in between.
 */
export function watchOutages(logger: Logger | undefined, connections: Record<string, Redis>) {
  const down = new Set<string>();
  let since = 0;
  let stopped = false;
  for (const [role, redis] of Object.entries(connections)) {
    const lost = (reason: string) => {
      if (stopped || down.has(role)) return;
      down.add(role);
      if (down.size === 1) {
        since = Date.now();
        logger?.warn('Redis unavailable: appends answer 503, streams wait; reconnecting with backoff', { reason });
      }
    };
    redis.on('error', (error: Error) => lost(error.message));
    redis.on('close', () => lost('connection closed'));
    redis.on('ready', () => {
      if (!down.delete(role) || down.size > 0 || stopped) return;
      logger?.info('Redis reachable again', { downMs: Date.now() - since });
    });
  }
  return {
    isDown: () => down.size > 0,
    /** Closing on purpose: the connections going away is no outage. */
    stop: () => void (stopped = true),
  };
}

/** Redis replies that mean "not now" rather than a bug: out of memory, loading, busy script, read-only replica. */
const TRANSIENT = /^(OOM|LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * Runs a Redis call and turns a lost or refused connection (or a transient server state) into
 * StoreUnavailableError, which the app answers with 503 and Retry-After; any other Redis error is a bug (500).
 */
export async function unavailableOnFailure<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const message = String((error as Error)?.message ?? error);
    const isReply = (error as Error)?.name === 'ReplyError';
    // Redis refused it (a transient reply), or ioredis never sent it (no offline queue): nothing was done. A
    // timeout or a connection lost with the command in flight: Redis may have run it, and only a retry with the
    // same idempotency key is safe.
    const unsent = isReply || /isn't writeable/.test(message);
    if (!isReply || TRANSIENT.test(message)) {
      throw new StoreUnavailableError(`store unavailable (${what}: ${message})`, unsent ? 'not-stored' : 'unknown');
    }
    throw error;
  }
}

/**
 * Registers a Lua script on `redis` and returns a function that runs it (EVALSHA, loading it again after a
 * restart of Redis wiped the script cache). The first `keys` arguments are keys.
 */
export function defineScript(redis: Redis, name: string, lua: string, keys: number) {
  redis.defineCommand(name, { lua, numberOfKeys: keys });
  const run = (redis as unknown as Record<string, (...args: string[]) => Promise<unknown>>)[name]!;
  return (...args: string[]) => run.apply(redis, args);
}

/** A glob pattern matching `text` literally (for SCAN MATCH). */
export const globEscape = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');
