/**
 * The identity ability on Redis. Keys, under the store's prefix:
 * - `account:<name>`: the account as JSON; `accounts`: the set of names.
 * - `token:<digest>`: an access token as JSON, expiring at its end (PXAT); `tokens-of:<name>`: a sorted set of the
 *   account's token digests, scored by their end (+inf: never), so the expired ones are pruned by score.
 * - `session:<digest>`: a session as JSON, expiring at its absolute end; `sessions-of:<subject>`: a sorted set of
 *   the subject's session digests scored by their end, expiring with the last of them.
 * - `read:<subject>`, `read-at:<subject>`: read positions (redis-read-positions.ts).
 * Changes that may end streams are published on `<prefix>identity@<db>` (pub/sub ignores the database number, so
 * the name carries it) by the same Lua script that makes them: every update of more than one key is one script,
 * so it is atomic, and is told exactly when it happened. An instance tells its own listeners at once and skips its
 * own notices. What is read back is checked with zod; unusable data is read as absent (and reported).
 *
 * The scripts that delete an account's or a subject's tokens and sessions name those keys from the members of the
 * sorted sets (built from the prefix): fine on one Redis or a replica set, not on a cluster, which the store's
 * other scripts do not support either.
 */
import type Redis from 'ioredis';
import type { ZodType } from 'zod';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../lib/logger.ts';
import { createEmitter } from './emitter.ts';
import type { IdentityChange, IdentityStore, StandaloneIdentity } from './identity-types.ts';
import { accountSchema, noticeSchema, readJson, reportUnusable, sessionSchema, tokenSchema, type IdentityNotice } from './identity-wire.ts';
import { connectRedis, defineScript, parseRedisUrl, unavailableOnFailure } from './redis-connection.ts';
import { redisReadPositions } from './redis-read-positions.ts';

/** KEYS: account, accounts. ARGV: JSON, name, channel, notice. Publishes when it replaced an account. */
const PUT_ACCOUNT_LUA = `
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
if existed == 1 then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return existed`;

/** KEYS: account, accounts, tokens-of, sessions-of, read, read-at. ARGV: name, prefix, channel, notice. */
const DELETE_ACCOUNT_LUA = `
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[5], KEYS[6])
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
for _, d in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do redis.call('DEL', ARGV[2] .. 'token:' .. d) end
for _, d in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do redis.call('DEL', ARGV[2] .. 'session:' .. d) end
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`;

/**
 * KEYS: the key. ARGV: the value read, the value to write, channel, notice ('' for none). A compare-and-set: -1 when
 * the key changed since it was read (read again), 0 when it is gone, 1 when written (its TTL kept).
 */
const REPLACE_LUA = `
local now = redis.call('GET', KEYS[1])
if not now then return 0 end
if now ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return 1`;

/**
 * KEYS: token or session, tokens-of or sessions-of. ARGV: JSON, end in ms ('' for never), digest, now in ms.
 * Prunes the set's ended members, stores the value until its end, and lets the set expire with its last member.
 */
const PUT_EXPIRING_LUA = `
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
if ARGV[2] ~= '' and tonumber(ARGV[2]) <= tonumber(ARGV[4]) then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[3])
  return 0
end
if ARGV[2] == '' then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('ZADD', KEYS[2], '+inf', ARGV[3])
  redis.call('PERSIST', KEYS[2])
  return 1
end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if last[2] ~= 'inf' then redis.call('PEXPIREAT', KEYS[2], last[2]) end
return 1`;

/** KEYS: tokens-of or sessions-of. ARGV: key prefix of the members (`<prefix>token:`), digest ('' for all), channel, notice. */
const DELETE_MEMBERS_LUA = `
local digests
if ARGV[2] == '' then
  digests = redis.call('ZRANGE', KEYS[1], 0, -1)
elseif redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  digests = {ARGV[2]}
else
  digests = {}
end
local n = 0
for _, d in ipairs(digests) do
  n = n + redis.call('DEL', ARGV[1] .. d)
  redis.call('ZREM', KEYS[1], d)
end
if n > 0 then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return n`;

/** KEYS: session, sessions-of. ARGV: the value read, digest, channel, notice ('' for none). Deletes it if unchanged. */
const DELETE_SESSION_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return 1`;

export interface RedisIdentityOptions {
  /** The connection commands go through (the store's). */
  commands: Redis;
  /** Where other instances' changes come from: a subscribed connection (the store's presence subscriber), or a function opening one when the first listener comes. */
  subscriber: Redis | (() => Promise<Redis>);
  prefix: string;
  /** The channel of change notices, `<prefix>identity@<db>`. */
  channel: string;
  logger?: Logger;
}

/** Compare-and-set retries before giving up (each lost race means another writer just changed the same key). */
const RETRIES = 5;

/** The identity ability on the store's connections; `close()` stops listening (the connections stay the store's). */
export async function createRedisIdentityOn(options: RedisIdentityOptions): Promise<StandaloneIdentity> {
  const { commands, prefix, channel } = options;
  const instance = randomUUID();
  const unusable = reportUnusable(options.logger);
  const changes = createEmitter<IdentityChange>();
  const keys = {
    account: (name: string) => `${prefix}account:${name}`,
    accounts: `${prefix}accounts`,
    token: (digest: string) => `${prefix}token:${digest}`,
    tokensOf: (name: string) => `${prefix}tokens-of:${name}`,
    session: (digest: string) => `${prefix}session:${digest}`,
    sessionsOf: (subject: string) => `${prefix}sessions-of:${subject}`,
  };
  const script = (name: string, lua: string, n: number) => defineScript(commands, `threadchatIdentity${name}`, lua, n);
  const putAccountScript = script('PutAccount', PUT_ACCOUNT_LUA, 2);
  const deleteAccountScript = script('DeleteAccount', DELETE_ACCOUNT_LUA, 6);
  const reads = redisReadPositions(commands, prefix);
  const replaceScript = script('Replace', REPLACE_LUA, 1);
  const putExpiringScript = script('PutExpiring', PUT_EXPIRING_LUA, 2);
  const deleteMembersScript = script('DeleteMembers', DELETE_MEMBERS_LUA, 1);
  const deleteSessionScript = script('DeleteSession', DELETE_SESSION_LUA, 2);

  const subjectOf = (name: string) => `user:${name}`;
  const notice = (change: IdentityChange) => JSON.stringify({ from: instance, ...change } satisfies IdentityNotice);
  const call = <T>(what: string, fn: () => Promise<T>) => unavailableOnFailure(what, fn);
  /** The value of `key` checked by `schema`, with the raw text it was read from (for a compare-and-set). */
  const read = async <T>(what: string, key: string, schema: ZodType<T>) => {
    const raw = await call(what, () => commands.get(key));
    if (raw === null) return null;
    const checked = readJson(schema, raw);
    if ('value' in checked) return { raw, value: checked.value };
    unusable(key.slice(prefix.length), checked.problem);
    return { raw, value: null };
  };

  // Other instances' notices (and other processes': `bun run user`).
  let subscribed: Redis | null = null;
  let subscribing: Promise<void> | null = null;
  let closed = false;
  const hear = (on: string, raw: string) => {
    if (on !== channel) return;
    const checked = readJson(noticeSchema, raw);
    if (!('value' in checked)) return unusable('a notice', checked.problem);
    const { from: sender, subject, session } = checked.value;
    if (sender !== instance) changes.emit(session === undefined ? { subject } : { subject, session });
  };
  const listen = async (connection: Redis) => {
    connection.on('message', hear);
    subscribed = connection;
    await connection.subscribe(channel);
  };
  /** A subscriber opened on demand (standalone): when the first listener comes. */
  const subscribeLater = (open: () => Promise<Redis>) => {
    subscribing ??= (async () => {
      const connection = await open();
      if (closed) return void connection.disconnect();
      await listen(connection);
    })().catch((error: unknown) => {
      subscribed?.off('message', hear);
      subscribed?.disconnect();
      subscribed = null;
      subscribing = null; // the next listener tries again
      options.logger?.warn('Cannot listen for identity changes of other instances', { reason: String((error as Error)?.message ?? error) });
    });
  };
  // The store's subscriber: listening from the start, and a store that cannot listen does not start.
  if (typeof options.subscriber !== 'function') await listen(options.subscriber);

  const identity: IdentityStore = {
    async putAccount(account) {
      const existed = await call('putAccount', () =>
        putAccountScript(keys.account(account.name), keys.accounts, JSON.stringify(account), account.name, channel, notice({ subject: subjectOf(account.name) })),
      );
      if (existed === 1) changes.emit({ subject: subjectOf(account.name) });
    },
    async getAccount(name) {
      return (await read('getAccount', keys.account(name), accountSchema))?.value ?? null;
    },
    async listAccounts() {
      const names = await call('listAccounts', () => commands.smembers(keys.accounts));
      const accounts = [];
      for (let i = 0; i < names.length; i += 500) {
        const chunk = names.slice(i, i + 500);
        const values = await call('listAccounts', () => commands.mget(chunk.map(keys.account)));
        for (const raw of values) {
          if (raw === null) continue; // deleted meanwhile
          const checked = readJson(accountSchema, raw);
          if ('value' in checked) accounts.push(checked.value);
          else unusable('an account', checked.problem);
        }
      }
      return accounts.sort((a, b) => (a.name < b.name ? -1 : 1));
    },
    async deleteAccount(name) {
      const subject = subjectOf(name);
      const deleted = await call('deleteAccount', () =>
        deleteAccountScript(keys.account(name), keys.accounts, keys.tokensOf(name), keys.sessionsOf(subject), reads.keys.read(subject), reads.keys.readAt(subject),
          name, prefix, channel, notice({ subject })),
      );
      if (deleted === 1) changes.emit({ subject });
      return deleted === 1;
    },
    async setAccess(name, pattern, level) {
      for (let attempt = 0; attempt < RETRIES; attempt++) {
        const held = await read('setAccess', keys.account(name), accountSchema);
        if (!held?.value) return false;
        const access = { ...held.value.access };
        if (level === null) delete access[pattern];
        else access[pattern] = level;
        const subject = subjectOf(name);
        const done = await call('setAccess', () =>
          replaceScript(keys.account(name), held.raw, JSON.stringify({ ...held.value!, access }), channel, notice({ subject })),
        );
        if (done === 0) return false;
        if (done === 1) {
          changes.emit({ subject });
          return true;
        }
      }
      throw new Error(`setAccess(${name}): the account kept changing while it was written`);
    },
    async addAccessToken(digest, token) {
      await call('addAccessToken', () =>
        putExpiringScript(keys.token(digest), keys.tokensOf(token.name), JSON.stringify(token), token.expires === null ? '' : String(token.expires), digest, String(Date.now())),
      );
    },
    async findAccessToken(digest) {
      const token = (await read('findAccessToken', keys.token(digest), tokenSchema))?.value;
      return token && (token.expires === null || token.expires > Date.now()) ? token : null;
    },
    async revokeAccessTokens(name, digest) {
      const subject = subjectOf(name);
      const n = Number(await call('revokeAccessTokens', () => deleteMembersScript(keys.tokensOf(name), keys.token(''), digest ?? '', channel, notice({ subject }))));
      if (n > 0) changes.emit({ subject });
      return n;
    },
    async putSession(digest, session) {
      await call('putSession', () =>
        putExpiringScript(keys.session(digest), keys.sessionsOf(session.subject), JSON.stringify(session), String(session.expires), digest, String(Date.now())),
      );
    },
    async getSession(digest, idleMs) {
      const held = await read('getSession', keys.session(digest), sessionSchema);
      if (!held) return null;
      const now = Date.now();
      const session = held.value;
      if (session && session.expires > now && session.seen + idleMs > now) return session;
      // Idle too long (or unusable): gone, as in the other stores. Nothing is told: no stream outlives its session's checks.
      if (session) await call('getSession', () => deleteSessionScript(keys.session(digest), keys.sessionsOf(session.subject), held.raw, digest, channel, ''));
      else await call('getSession', () => commands.del(keys.session(digest)));
      return null;
    },
    async touchSession(digest, seen) {
      for (let attempt = 0; attempt < RETRIES; attempt++) {
        const held = await read('touchSession', keys.session(digest), sessionSchema);
        if (!held?.value) return;
        const done = await call('touchSession', () => replaceScript(keys.session(digest), held.raw, JSON.stringify({ ...held.value!, seen }), channel, ''));
        if (done !== -1) return;
      }
    },
    async deleteSession(digest) {
      for (let attempt = 0; attempt < RETRIES; attempt++) {
        const held = await read('deleteSession', keys.session(digest), sessionSchema);
        if (!held) return;
        if (!held.value) return void (await call('deleteSession', () => commands.del(keys.session(digest))));
        const { subject } = held.value;
        const done = await call('deleteSession', () =>
          deleteSessionScript(keys.session(digest), keys.sessionsOf(subject), held.raw, digest, channel, notice({ subject, session: digest })),
        );
        if (done === 1) return void changes.emit({ subject, session: digest });
      }
      throw new Error('deleteSession: the session kept changing while it was deleted');
    },
    async deleteSessionsOf(subject) {
      const n = Number(await call('deleteSessionsOf', () => deleteMembersScript(keys.sessionsOf(subject), keys.session(''), '', channel, notice({ subject }))));
      if (n > 0) changes.emit({ subject });
      return n;
    },
    setReadPosition: reads.setReadPosition,
    readPositions: reads.readPositions,
    onIdentityChange(listener) {
      if (!closed && typeof options.subscriber === 'function') subscribeLater(options.subscriber);
      return changes.subscribe(listener);
    },
  };
  return {
    ...identity,
    async close() {
      if (closed) return;
      closed = true;
      await subscribing;
      const connection = subscribed as Redis | null;
      if (!connection) return;
      connection.off('message', hear);
      if (typeof options.subscriber === 'function') await connection.quit().catch(() => connection.disconnect());
      else await connection.unsubscribe(channel).catch(() => {}); // the store's connection: it closes it itself
    },
  };
}

/**
 * Only the identity part of a redis store (`bun run user`): one command connection, and a subscriber only once
 * something listens (its onIdentityChange hears other instances from the moment that subscription is ready).
 */
export async function createRedisIdentity(options: { url: string; logger?: Logger }): Promise<StandaloneIdentity> {
  const target = parseRedisUrl(options.url);
  const commands = await connectRedis(target, 'identity', 5000);
  const identity = await createRedisIdentityOn({
    commands,
    subscriber: () => connectRedis(target, 'identity-subscriber'),
    prefix: target.prefix,
    channel: `${target.prefix}identity@${target.db}`,
    logger: options.logger,
  });
  return {
    ...identity,
    async close() {
      await identity.close();
      await commands.quit().catch(() => commands.disconnect());
    },
  };
}
