/**
 * The identity ability of the SQLite and Redis stores beyond the shared contract: changes made by another process
 * (`bun run user`) heard by a running store, and how fast; what each keeps where; bounds; data it cannot read;
 * Redis away as a 503.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import Redis from 'ioredis';
import { openIdentityStore } from '../../store/index.ts';
import type { IdentityChange, IdentityStore, Session } from '../../store/identity-types.ts';
import { createRedisIdentity } from '../../store/redis-identity.ts';
import { createRedisStore } from '../../store/redis.ts';
import { openSqlite } from '../../store/sqlite-driver.ts';
import { createSqliteIdentity } from '../../store/sqlite-identity.ts';
import { createSqliteStore } from '../../store/sqlite.ts';
import { StoreUnavailableError } from '../../store/types.ts';
import { BUN, ROOT, tempDir, waitFor } from '../helpers.ts';
import { DB, deleteKeys, SHARED_REDIS, startPrivateRedis, storeUrl, uniquePrefix } from './redis-helpers.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const HOUR = 3_600_000;
const session = (subject: string, extra: Partial<Session> = {}): Session => {
  const now = Date.now();
  return { subject, name: subject.replace(/^user:/, ''), admin: false, rules: null, created: now, seen: now, expires: now + HOUR, ...extra };
};
const account = (name: string) => ({ name, passwordHash: 'h', admin: false, access: {}, created: 1_700_000_000_000 });

/**
 * Runs `bun run user`'s part in a process of its own: opens the identity store with `openIdentityStore(config)`,
 * then revokes a session, changes an account's access and deletes it, a quarter second apart, printing when each
 * call started and returned.
 */
async function changeFromAnotherProcess(config: { store: string; data: string }) {
  const script = `
    const { openIdentityStore } = await import(${JSON.stringify(join(ROOT, 'store/index.ts'))});
    const store = await openIdentityStore(${JSON.stringify(config)});
    const step = async (name, call) => {
      const start = Date.now();
      await call();
      console.log(JSON.stringify({ name, start, end: Date.now() }));
      await Bun.sleep(250);
    };
    await step('deleteSession', () => store.deleteSession('s-far'));
    await step('setAccess', () => store.setAccess('far', 'x', 'deny'));
    await step('deleteAccount', () => store.deleteAccount('far'));
    await store.close();`;
  const proc = Bun.spawn([BUN, '-e', script], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`the other process failed (${code}): ${err}`);
  return out.trim().split('\n').map((line) => JSON.parse(line) as { name: string; start: number; end: number });
}

/** The other process's three changes, heard by `store`: the delay from each call's return to its notice, in ms. */
async function measureCrossProcess(store: IdentityStore, config: { store: string; data: string }) {
  await store.putAccount(account('far'));
  await store.putSession('s-far', session('user:far'));
  const heard: { change: IdentityChange; at: number }[] = [];
  const off = store.onIdentityChange((change) => heard.push({ change, at: Date.now() }));
  const steps = await changeFromAnotherProcess(config);
  await waitFor(() => heard.length >= 3, 'the three changes', 3000);
  off();
  expect(heard.map((h) => h.change)).toEqual([
    { subject: 'user:far', session: 's-far' },
    { subject: 'user:far' },
    { subject: 'user:far' },
  ]);
  const delays = steps.map((step, i) => heard[i]!.at - step.end);
  for (const delay of delays) expect(delay).toBeLessThan(1000);
  expect(await store.getAccount('far')).toBeNull();
  return delays;
}

describe('identity on SQLite', () => {
  it('hears what another process changes within a second (the poll of identity_changes)', async () => {
    const dir = tempDir('threadchat-identity-');
    cleanups.push(() => dir.remove());
    const store = createSqliteStore({ dir: dir.path });
    cleanups.push(() => store.close());
    const delays = await measureCrossProcess(store, { store: 'sqlite', data: dir.path });
    console.log(`sqlite: another process's changes heard ${delays.join(', ')} ms after its calls returned`);
  });

  it('keeps its tables in chat.sqlite, and deletes old change rows, expired sessions and expired tokens now and then', async () => {
    const dir = tempDir('threadchat-identity-');
    cleanups.push(() => dir.remove());
    const first = createSqliteIdentity({ dir: dir.path }); // makes the tables
    await first.close();
    const raw = openSqlite(join(dir.path, 'chat.sqlite'));
    const now = Date.now();
    const tables = raw.prepare<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['accounts', 'account_access', 'access_tokens', 'sessions', 'identity_changes']));
    raw.exec(`INSERT INTO identity_changes (subject, session, at) VALUES ('user:old', NULL, ${now - 10 * 60_000}), ('user:new', NULL, ${now})`);
    raw.exec(`INSERT INTO sessions VALUES ('gone', 'user:a', 'a', 0, NULL, 0, 0, ${now - 1}), ('kept', 'user:a', 'a', 0, NULL, 0, ${now}, ${now + HOUR})`);
    raw.exec(`INSERT INTO access_tokens VALUES ('t-gone', 'a', 0, ${now - 1}), ('t-kept', 'a', 0, NULL)`);
    const store = createSqliteIdentity({ dir: dir.path });
    await store.putSession('another', session('user:b')); // the first write of a while sweeps
    const column = (sql: string) => raw.prepare<{ v: string }>(sql).all().map((r) => r.v);
    expect(column('SELECT subject AS v FROM identity_changes')).toEqual(['user:new']);
    expect(column('SELECT digest AS v FROM sessions ORDER BY digest')).toEqual(['another', 'kept']);
    expect(column('SELECT digest AS v FROM access_tokens')).toEqual(['t-kept']);
    raw.close();
    await store.close();
  });

  it("reads a session whose rules it cannot read as signed out, and tells its own listeners at once, once", async () => {
    const dir = tempDir('threadchat-identity-');
    cleanups.push(() => dir.remove());
    const store = createSqliteIdentity({ dir: dir.path, pollMs: 50 });
    cleanups.push(() => store.close());
    await store.putSession('s-rules', session('jwt:x', { rules: { '*': 'read-only' } }));
    expect(await store.getSession('s-rules', HOUR)).toMatchObject({ rules: { '*': 'read-only' } });
    const raw = openSqlite(join(dir.path, 'chat.sqlite'));
    raw.exec(`UPDATE sessions SET rules = '{"*":"everything"}' WHERE digest = 's-rules'`);
    raw.close();
    expect(await store.getSession('s-rules', HOUR)).toBeNull();
    const heard: IdentityChange[] = [];
    const off = store.onIdentityChange((change) => heard.push(change));
    await store.putSession('s-own', session('user:own'));
    await store.deleteSession('s-own');
    expect(heard).toEqual([{ subject: 'user:own', session: 's-own' }]); // before the poll
    await Bun.sleep(200); // several polls read the row back: skipped, not told twice
    expect(heard).toHaveLength(1);
    off();
  });

  it('a memory store has no identity part another process could open', async () => {
    await expect(openIdentityStore({ store: 'memory', data: '' })).rejects.toThrow(/sqlite or redis/);
  });
});

describe('identity on Redis', () => {
  const prefixes: string[] = [];
  cleanups.push(async () => {
    for (const prefix of prefixes) await deleteKeys(SHARED_REDIS, DB.conformance, prefix);
  });
  const fresh = () => {
    const prefix = uniquePrefix('identity');
    prefixes.push(prefix);
    return { prefix, url: storeUrl(SHARED_REDIS, DB.conformance, prefix) };
  };

  it('hears what another process changes (PUBLISH on the identity channel)', async () => {
    const { url } = fresh();
    const store = await createRedisStore({ url });
    cleanups.push(() => store.close());
    const delays = await measureCrossProcess(store, { store: url, data: '' });
    console.log(`redis: another process's changes heard ${delays.join(', ')} ms after its calls returned`);
  });

  it('keeps accounts, tokens and sessions under the prefix, each token and session expiring at its end', async () => {
    const { prefix, url } = fresh();
    const store = await createRedisIdentity({ url });
    cleanups.push(() => store.close());
    const redis = new Redis(`${SHARED_REDIS}/${DB.conformance}`);
    cleanups.push(() => redis.disconnect());
    const now = Date.now();
    await store.putAccount(account('kim'));
    await store.addAccessToken('t1', { name: 'kim', created: now, expires: now + HOUR });
    await store.addAccessToken('t2', { name: 'kim', created: now, expires: null });
    await store.putSession('s1', session('user:kim', { expires: now + HOUR }));
    expect(JSON.parse((await redis.get(`${prefix}account:kim`))!)).toEqual(account('kim'));
    expect(await redis.smembers(`${prefix}accounts`)).toEqual(['kim']);
    expect(await redis.pttl(`${prefix}token:t1`)).toBeGreaterThan(HOUR - 10_000);
    expect(await redis.pttl(`${prefix}token:t2`)).toBe(-1);
    expect((await redis.zrange(`${prefix}tokens-of:kim`, '0', '-1')).sort()).toEqual(['t1', 't2']);
    expect(await redis.pttl(`${prefix}session:s1`)).toBeGreaterThan(HOUR - 10_000);
    expect(await redis.zrange(`${prefix}sessions-of:user:kim`, '0', '-1')).toEqual(['s1']);
    expect(await redis.pttl(`${prefix}sessions-of:user:kim`)).toBeGreaterThan(HOUR - 10_000);
    // Data it cannot read is absent, not an exception.
    await redis.set(`${prefix}account:kim`, '{"name":"kim","admin":"yes"}');
    expect(await store.getAccount('kim')).toBeNull();
    expect(await store.listAccounts()).toEqual([]);
    await store.deleteAccount('kim');
    expect(await redis.exists(`${prefix}token:t1`, `${prefix}token:t2`, `${prefix}session:s1`, `${prefix}tokens-of:kim`, `${prefix}sessions-of:user:kim`)).toBe(0);
  });

  it('answers StoreUnavailableError (503) while Redis is away', async () => {
    const server = await startPrivateRedis();
    cleanups.push(() => server.remove());
    const store = await createRedisIdentity({ url: `${server.url}/0` });
    cleanups.push(() => store.close());
    await store.putAccount(account('ann'));
    await server.kill();
    await expect(store.getAccount('ann')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.deleteSession('x')).rejects.toBeInstanceOf(StoreUnavailableError);
    await server.start();
    await waitFor(async () => (await store.getAccount('ann').catch(() => null)) !== null, 'the account after Redis came back');
  });
});
