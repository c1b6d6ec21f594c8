/**
 * Accounts, access tokens and sessions: every store with the identity ability is held to one contract; the memory
 * one is the reference. `again()` opens the same data a second time (another instance, or `bun run user` in
 * another process), which must see every change and hear of the ones that end streams.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createMemoryIdentity } from '../../store/memory-identity.ts';
import type { Account, IdentityChange, IdentityStore, Session } from '../../store/identity-types.ts';
import { createRedisIdentity } from '../../store/redis-identity.ts';
import { createRedisStore } from '../../store/redis.ts';
import { createSqliteIdentity } from '../../store/sqlite-identity.ts';
import { createSqliteStore } from '../../store/sqlite.ts';
import { openSqlite } from '../../store/sqlite-driver.ts';
import { join } from 'node:path';
import { tempDir, waitFor } from '../helpers.ts';
import { DB, deleteKeys, SHARED_REDIS, storeUrl, uniquePrefix } from './redis-helpers.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

export interface IdentityBackend {
  store: IdentityStore;
  /** The same data opened once more, as another instance or process would; absent where nothing is shared. */
  again?: () => Promise<IdentityStore>;
  close(): Promise<void>;
}

/** Closes what a backend opened (its `again()` stores too), then removes its data. */
const closing = (closers: (() => Promise<unknown>)[], remove: () => unknown) => async () => {
  for (const close of closers.reverse()) await close();
  await remove();
};

/** A SQLite data folder: the server's store, and `again()` the identity part alone on the same file (`bun run user`). */
const sqliteBackend = (first: 'server' | 'command') => async (): Promise<IdentityBackend> => {
  const dir = tempDir('threadchat-identity-');
  const server = () => createSqliteStore({ dir: dir.path });
  const command = () => createSqliteIdentity({ dir: dir.path });
  const store = first === 'server' ? server() : command();
  const closers: (() => Promise<unknown>)[] = [() => store.close()];
  return {
    store,
    again: async () => {
      const other = first === 'server' ? command() : server();
      closers.push(() => other.close());
      return other;
    },
    close: closing(closers, () => dir.remove()),
  };
};

/** Redis under a prefix of its own: a server's store, and `again()` another instance (or the command's part alone). */
const redisBackend = (first: 'server' | 'command', then: 'server' | 'command') => async (): Promise<IdentityBackend> => {
  const prefix = uniquePrefix('identity');
  const url = storeUrl(SHARED_REDIS, DB.conformance, prefix);
  const open = (kind: 'server' | 'command') => (kind === 'server' ? createRedisStore({ url }) : createRedisIdentity({ url }));
  const store = await open(first);
  const closers: (() => Promise<unknown>)[] = [() => store.close()];
  return {
    store,
    again: async () => {
      const other = await open(then);
      closers.push(() => other.close());
      return other;
    },
    close: closing(closers, () => deleteKeys(SHARED_REDIS, DB.conformance, prefix)),
  };
};

export const identityBackends: Record<string, () => Promise<IdentityBackend>> = {
  memory: async () => ({ store: createMemoryIdentity(), close: async () => {} }),
  // The server's store; again() is `bun run user`'s connection on the same file, which must hear the server's changes.
  sqlite: sqliteBackend('server'),
  // The other way round: what `bun run user` changes reaches a running server.
  'sqlite (user command first)': sqliteBackend('command'),
  // Two instances on the same Redis and prefix.
  redis: redisBackend('server', 'server'),
  // `bun run user` (one connection) changing what a running instance hears, and listening itself.
  'redis (user command first)': redisBackend('command', 'server'),
};

const account = (name: string, extra: Partial<Account> = {}): Account => ({
  name,
  passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
  admin: false,
  access: {},
  created: 1_700_000_000_000,
  ...extra,
});
const session = (subject: string, extra: Partial<Session> = {}): Session => {
  const now = Date.now();
  return { subject, name: subject.replace(/^user:/, ''), admin: false, rules: null, created: now, seen: now, expires: now + 3_600_000, ...extra };
};
const HOUR = 3_600_000;

for (const [kind, open] of Object.entries(identityBackends)) {
  describe(`identity store: ${kind}`, () => {
    it('keeps accounts: put, get, list in name order, replace, access rules, delete', async () => {
      const { store, close } = await open();
      cleanups.push(close);
      await store.putAccount(account('bob'));
      await store.putAccount(account('alice', { admin: true }));
      expect((await store.listAccounts()).map((a) => a.name)).toEqual(['alice', 'bob']);
      expect(await store.getAccount('alice')).toEqual(account('alice', { admin: true }));
      expect(await store.getAccount('nobody')).toBeNull();
      expect(await store.setAccess('bob', 'team-*', 'read-only')).toBe(true);
      expect(await store.setAccess('bob', 'secret', 'deny')).toBe(true);
      expect(await store.setAccess('nobody', '*', 'deny')).toBe(false);
      expect((await store.getAccount('bob'))!.access).toEqual({ 'team-*': 'read-only', secret: 'deny' });
      expect(await store.setAccess('bob', 'secret', null)).toBe(true);
      expect((await store.getAccount('bob'))!.access).toEqual({ 'team-*': 'read-only' });
      await store.putAccount({ ...account('bob'), passwordHash: 'another', access: { '*': 'read-write' } });
      expect((await store.getAccount('bob'))!.passwordHash).toBe('another');
      expect(await store.deleteAccount('bob')).toBe(true);
      expect(await store.deleteAccount('bob')).toBe(false);
      expect((await store.listAccounts()).map((a) => a.name)).toEqual(['alice']);
    });

    it('finds access tokens by digest until they expire or are revoked', async () => {
      const { store, close } = await open();
      cleanups.push(close);
      await store.putAccount(account('ann'));
      await store.addAccessToken('d1', { name: 'ann', created: Date.now(), expires: null });
      await store.addAccessToken('d2', { name: 'ann', created: Date.now(), expires: Date.now() + HOUR });
      await store.addAccessToken('d3', { name: 'ann', created: Date.now(), expires: Date.now() - 1 });
      expect(await store.findAccessToken('d1')).toMatchObject({ name: 'ann', expires: null });
      expect(await store.findAccessToken('d2')).toMatchObject({ name: 'ann' });
      expect(await store.findAccessToken('d3')).toBeNull(); // expired
      expect(await store.findAccessToken('unknown')).toBeNull();
      expect(await store.revokeAccessTokens('ann', 'd1')).toBe(1);
      expect(await store.findAccessToken('d1')).toBeNull();
      expect(await store.findAccessToken('d2')).not.toBeNull();
      expect(await store.revokeAccessTokens('ann')).toBeGreaterThanOrEqual(1);
      expect(await store.findAccessToken('d2')).toBeNull();
    });

    it('ends sessions when idle too long, past their absolute end, on logout and with their account', async () => {
      const { store, close } = await open();
      cleanups.push(close);
      const now = Date.now();
      await store.putSession('s-live', session('user:ann'));
      await store.putSession('s-idle', session('user:ann', { seen: now - 2 * HOUR }));
      await store.putSession('s-old', session('user:ann', { expires: now - 1 }));
      await store.putSession('s-bob', session('user:bob'));
      expect(await store.getSession('s-live', HOUR)).toMatchObject({ subject: 'user:ann', name: 'ann' });
      expect(await store.getSession('s-idle', HOUR)).toBeNull();
      expect(await store.getSession('s-old', HOUR)).toBeNull();
      await store.putSession('s-touched', session('user:ann', { seen: now - 50 * 60_000 }));
      await store.touchSession('s-touched', now);
      expect(await store.getSession('s-touched', HOUR)).toMatchObject({ seen: now });
      await store.deleteSession('s-live');
      expect(await store.getSession('s-live', HOUR)).toBeNull();
      expect(await store.deleteSessionsOf('user:ann')).toBeGreaterThanOrEqual(1);
      expect(await store.getSession('s-touched', HOUR)).toBeNull();
      expect(await store.getSession('s-bob', HOUR)).not.toBeNull();
      await store.putAccount(account('bob'));
      await store.addAccessToken('t-bob', { name: 'bob', created: now, expires: null });
      await store.deleteAccount('bob');
      expect(await store.findAccessToken('t-bob')).toBeNull(); // its tokens and sessions end with the account
      expect(await store.getSession('s-bob', HOUR)).toBeNull();
    });

    it('tells of changes that end streams: a session revoked, an account deleted or its access changed', async () => {
      const { store, again, close } = await open();
      cleanups.push(close);
      const other = again ? await again() : store; // where shared, another instance must hear of it too
      const heard: IdentityChange[] = [];
      const off = other.onIdentityChange((change) => heard.push(change));
      await store.putAccount(account('cat'));
      await store.putSession('s-cat', session('user:cat'));
      await store.deleteSession('s-cat');
      await waitFor(() => heard.some((c) => c.session === 's-cat' && c.subject === 'user:cat'), 'the revoked session', 3000);
      await store.setAccess('cat', 'x', 'deny');
      await store.deleteAccount('cat');
      await waitFor(() => heard.filter((c) => c.subject === 'user:cat' && !c.session).length >= 2, 'the access change and the deletion', 3000);
      off();
      expect(await other.getAccount('cat')).toBeNull();
    });

    it('keeps read positions per subject and room: the later id wins, an earlier one never moves it back', async () => {
      const { store, again, close } = await open();
      cleanups.push(close);
      expect(await store.readPositions('user:eve')).toEqual({});
      await store.setReadPosition('user:eve', 'dev', '9');
      expect(await store.readPositions('user:eve')).toEqual({ dev: '9' });
      await store.setReadPosition('user:eve', 'dev', '10'); // later as a number, though not as text
      await store.setReadPosition('user:eve', 'dev', '8'); // a stale browser: kept at 10
      await store.setReadPosition('user:eve', 'dev', '10');
      expect(await store.readPositions('user:eve')).toEqual({ dev: '10' });
      // Redis stream ids: the sequence counts after the milliseconds.
      await store.setReadPosition('user:eve', 'łódź', '1700000000000-2');
      await store.setReadPosition('user:eve', 'łódź', '1700000000000-10');
      await store.setReadPosition('user:eve', 'łódź', '1699999999999-99');
      // Other subjects and rooms are their own.
      await store.setReadPosition('jwt:eve', 'dev', '3');
      await store.setReadPosition('user:fay', 'ops', '7');
      expect(await store.readPositions('user:eve')).toEqual({ dev: '10', 'łódź': '1700000000000-10' });
      expect(await store.readPositions('jwt:eve')).toEqual({ dev: '3' });
      expect(await store.readPositions('user:fay')).toEqual({ ops: '7' });
      if (again) {
        // Another instance, or another connection to the same file (SQLite: what a restart reads), sees them.
        const other = await again();
        expect(await other.readPositions('user:eve')).toEqual({ dev: '10', 'łódź': '1700000000000-10' });
        await other.setReadPosition('user:eve', 'dev', '9');
        expect(await store.readPositions('user:eve')).toEqual({ dev: '10', 'łódź': '1700000000000-10' });
      }
    });

    it("forgets an account's read positions with the account, and keeps 1000 rooms a subject at the most", async () => {
      const { store, close } = await open();
      cleanups.push(close);
      await store.putAccount(account('gus'));
      await store.setReadPosition('user:gus', 'dev', '5');
      await store.setReadPosition('jwt:gus', 'dev', '6');
      expect(await store.deleteAccount('gus')).toBe(true);
      expect(await store.readPositions('user:gus')).toEqual({});
      expect(await store.readPositions('jwt:gus')).toEqual({ dev: '6' }); // not the account's
      // Past 1000 rooms the position updated longest ago goes.
      await store.setReadPosition('user:hal', 'room-0', '1');
      await Bun.sleep(2);
      for (let i = 1; i < 1000; i++) await store.setReadPosition('user:hal', `room-${i}`, '1');
      await Bun.sleep(2);
      await store.setReadPosition('user:hal', 'room-1000', '1');
      const kept = await store.readPositions('user:hal');
      expect(Object.keys(kept).length).toBe(1000);
      expect(kept['room-0']).toBeUndefined();
      expect(kept['room-1000']).toBe('1');
    });
  });
}

describe('read positions on SQLite', () => {
  it('survive closing and opening the folder again, and a database made before them gets their table', async () => {
    const dir = tempDir('threadchat-identity-');
    cleanups.push(() => dir.remove());
    const first = createSqliteStore({ dir: dir.path });
    await first.setReadPosition('user:ivy', 'dev', '4');
    await first.close();
    const reopened = createSqliteIdentity({ dir: dir.path });
    expect(await reopened.readPositions('user:ivy')).toEqual({ dev: '4' });
    await reopened.close();
    // As a database from before read positions: without their table, which the next open makes.
    const db = openSqlite(join(dir.path, 'chat.sqlite'));
    db.exec('PRAGMA busy_timeout = 5000'); // the closed store's writer thread may still be letting go
    db.exec('DROP TABLE read_positions');
    db.close();
    const older = createSqliteStore({ dir: dir.path });
    expect(await older.readPositions('user:ivy')).toEqual({});
    await older.setReadPosition('user:ivy', 'dev', '5');
    expect(await older.readPositions('user:ivy')).toEqual({ dev: '5' });
    await older.close();
  });
});
