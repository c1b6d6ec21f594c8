/**
 * The identity ability on SQLite: accounts, access tokens, sessions and read positions (sqlite-read-positions.ts)
 * in tables of `chat.sqlite`, beside the messages. It needs no writer thread: it runs on the store's main-thread
 * connection, or on a connection of its own (`createSqliteIdentity({ dir })`, what `bun run user` opens while
 * servers run). Its writes are few (sign-ins, sign-outs, a session's use at most once a minute, a page's read
 * position at most every 2 s, the operator's edits), each one short IMMEDIATE transaction.
 *
 * Other processes hear of changes through `identity_changes`: every change that may end streams appends a row in
 * the same transaction, and while this store has listeners it reads the rows after the last one it saw every
 * 250 ms (its own changes it tells at once, and skips when it reads them back). Rows older than five minutes,
 * expired sessions and expired tokens are deleted now and then (at most once a minute, a bounded number a time).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AccessLevel, AccessRules } from '../lib/identity.ts';
import type { Logger } from '../lib/logger.ts';
import { createEmitter } from './emitter.ts';
import type { AccessToken, Account, IdentityChange, Session, StandaloneIdentity } from './identity-types.ts';
import { levelSchema, readJson, reportUnusable, rulesSchema } from './identity-wire.ts';
import { openSqlite, type SqlDatabase } from './sqlite-driver.ts';
import { READ_POSITIONS_TABLE, sqliteReadPositions } from './sqlite-read-positions.ts';
import { StoreUnavailableError } from './types.ts';

export type SqliteIdentityOptions = (
  | { /** The data folder: opens `chat.sqlite` there on a connection of its own, closed by close(). */ dir: string }
  | { /** The store's main-thread connection, shared: close() leaves it open. */ db: SqlDatabase }
) & {
  /** How often other processes' changes are read while there are listeners. Default 250 ms. */
  pollMs?: number;
  logger?: Logger;
};

/** How long a change row is kept: far longer than any listener takes to read it. */
const CHANGES_KEPT_MS = 5 * 60_000;
/** Housekeeping runs at most this often, and deletes at most SWEEP_ROWS rows of each kind a time. */
const SWEEP_EVERY_MS = 60_000;
const SWEEP_ROWS = 1000;

export function createIdentityTables(db: SqlDatabase) {
  db.exec(`CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, admin INTEGER NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID`);
  db.exec(`CREATE TABLE IF NOT EXISTS account_access (
    name TEXT NOT NULL, pattern TEXT NOT NULL, level TEXT NOT NULL, PRIMARY KEY (name, pattern)) WITHOUT ROWID`);
  db.exec(`CREATE TABLE IF NOT EXISTS access_tokens (
    digest TEXT PRIMARY KEY, name TEXT NOT NULL, created INTEGER NOT NULL, expires INTEGER) WITHOUT ROWID`);
  db.exec('CREATE INDEX IF NOT EXISTS access_tokens_name ON access_tokens (name)');
  db.exec(`CREATE TABLE IF NOT EXISTS sessions (
    digest TEXT PRIMARY KEY, subject TEXT NOT NULL, name TEXT, admin INTEGER NOT NULL, rules TEXT,
    created INTEGER NOT NULL, seen INTEGER NOT NULL, expires INTEGER NOT NULL) WITHOUT ROWID`);
  db.exec('CREATE INDEX IF NOT EXISTS sessions_subject ON sessions (subject)');
  db.exec('CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires)');
  db.exec(`CREATE TABLE IF NOT EXISTS identity_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, subject TEXT NOT NULL, session TEXT, at INTEGER NOT NULL)`);
  db.exec(READ_POSITIONS_TABLE); // made on every open: a database from before read positions gets it too
}

/** A connection of its own on the folder's database: WAL (readers beside the server's writer), fsynced commits. */
function openOwn(dir: string): SqlDatabase {
  mkdirSync(dir, { recursive: true });
  const db = openSqlite(join(dir, 'chat.sqlite'));
  try {
    db.exec('PRAGMA busy_timeout = 5000'); // first: switching to WAL waits for a lock too
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** SQLite's answers that mean "not now" (another process holds the lock past busy_timeout, a full or failing disk): 503. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY)/;

interface AccountRow { name: string; password_hash: string; admin: number; created: number }
interface SessionRow { subject: string; name: string | null; admin: number; rules: string | null; created: number; seen: number; expires: number }

export function createSqliteIdentity(options: SqliteIdentityOptions): StandaloneIdentity {
  const own = 'dir' in options;
  const db = own ? openOwn(options.dir) : options.db;
  try {
    createIdentityTables(db);
  } catch (error) {
    if (own) db.close();
    throw error;
  }
  const unusable = reportUnusable(options.logger);
  const q = <Row, P extends (string | number | null)[] = []>(sql: string) => db.prepare<Row, P>(sql);
  const changed = q<{ n: number }>('SELECT changes() AS n');
  const lastRow = q<{ id: number }>('SELECT last_insert_rowid() AS id');

  const accountRow = q<AccountRow, [string]>('SELECT * FROM accounts WHERE name = ?');
  const allAccounts = q<AccountRow>('SELECT * FROM accounts');
  const upsertAccount = q<never, [string, string, number, number]>(`INSERT INTO accounts (name, password_hash, admin, created) VALUES (?, ?, ?, ?)
    ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, admin = excluded.admin, created = excluded.created`);
  const deleteAccountRow = q<never, [string]>('DELETE FROM accounts WHERE name = ?');
  const rulesOf = q<{ pattern: string; level: string }, [string]>('SELECT pattern, level FROM account_access WHERE name = ?');
  const allRules = q<{ name: string; pattern: string; level: string }>('SELECT name, pattern, level FROM account_access');
  const putRule = q<never, [string, string, string]>(`INSERT INTO account_access (name, pattern, level) VALUES (?, ?, ?)
    ON CONFLICT (name, pattern) DO UPDATE SET level = excluded.level`);
  const deleteRule = q<never, [string, string]>('DELETE FROM account_access WHERE name = ? AND pattern = ?');
  const deleteRules = q<never, [string]>('DELETE FROM account_access WHERE name = ?');

  const putToken = q<never, [string, string, number, number | null]>('INSERT OR REPLACE INTO access_tokens (digest, name, created, expires) VALUES (?, ?, ?, ?)');
  const tokenRow = q<AccessToken, [string]>('SELECT name, created, expires FROM access_tokens WHERE digest = ?');
  const deleteTokens = q<never, [string]>('DELETE FROM access_tokens WHERE name = ?');
  const deleteToken = q<never, [string, string]>('DELETE FROM access_tokens WHERE name = ? AND digest = ?');

  const putSessionRow = q<never, [string, string, string | null, number, string | null, number, number, number]>(
    'INSERT OR REPLACE INTO sessions (digest, subject, name, admin, rules, created, seen, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const sessionRow = q<SessionRow, [string]>('SELECT subject, name, admin, rules, created, seen, expires FROM sessions WHERE digest = ?');
  const touch = q<never, [number, string]>('UPDATE sessions SET seen = ? WHERE digest = ?');
  const deleteSessionRow = q<never, [string]>('DELETE FROM sessions WHERE digest = ?');
  const deleteSessionsOfRows = q<never, [string]>('DELETE FROM sessions WHERE subject = ?');

  const addChange = q<never, [string, string | null, number]>('INSERT INTO identity_changes (subject, session, at) VALUES (?, ?, ?)');
  const lastChange = q<{ id: number | null }>('SELECT MAX(id) AS id FROM identity_changes');
  const changesAfter = q<{ id: number; subject: string; session: string | null }, [number]>(
    `SELECT id, subject, session FROM identity_changes WHERE id > ? ORDER BY id LIMIT ${SWEEP_ROWS}`,
  );
  const sweeps = [
    q<never, [number]>(`DELETE FROM identity_changes WHERE id IN (SELECT id FROM identity_changes WHERE at < ? ORDER BY id LIMIT ${SWEEP_ROWS})`),
    q<never, [number]>(`DELETE FROM sessions WHERE digest IN (SELECT digest FROM sessions WHERE expires <= ? LIMIT ${SWEEP_ROWS})`),
    q<never, [number]>(`DELETE FROM access_tokens WHERE digest IN (SELECT digest FROM access_tokens WHERE expires <= ? LIMIT ${SWEEP_ROWS})`),
  ] as const;

  const changes = createEmitter<IdentityChange>();
  let listeners = 0;
  let poller: ReturnType<typeof setInterval> | null = null;
  let seenThrough = 0;
  /** Change rows this store wrote while listening: told at once, so skipped when the poll reads them back. */
  const mine = new Set<number>();
  let lastSweep = 0;
  let pollWarnedAt = -Infinity;
  let closed = false;

  /** Runs `fn` as one IMMEDIATE transaction (the write lock taken first: no read-then-upgrade that could fail busy). */
  const write = <T>(what: string, fn: (told: IdentityChange[]) => T): T => {
    if (closed) throw new StoreUnavailableError(`store unavailable (${what}: the identity store is closed)`);
    const told: IdentityChange[] = [];
    let result: T;
    try {
      db.exec('BEGIN IMMEDIATE');
      try {
        result = fn(told);
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && UNAVAILABLE.test(code)) {
        throw new StoreUnavailableError(`store unavailable (${what}: ${String((error as Error).message ?? error)})`);
      }
      throw error;
    }
    for (const change of told) changes.emit(change);
    sweep();
    return result;
  };
  /** Within a write: records a change for the other processes, and for this one's listeners once committed. */
  const tell = (told: IdentityChange[], subject: string, session?: string) => {
    addChange.run(subject, session ?? null, Date.now());
    if (poller) mine.add(lastRow.get()!.id);
    told.push(session === undefined ? { subject } : { subject, session });
  };
  const count = () => changed.get()?.n ?? 0;
  const reads = sqliteReadPositions(db, (what, fn) => write(what, fn));
  const subjectOf = (name: string) => `user:${name}`;

  /** Old change rows, expired sessions and tokens: at most once a minute, a bounded number each, never failing a call. */
  const sweep = () => {
    const now = Date.now();
    if (closed || now - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = now;
    try {
      sweeps[0].run(now - CHANGES_KEPT_MS);
      sweeps[1].run(now);
      sweeps[2].run(now);
    } catch {
      // busy or full: the next sweep deletes them
    }
  };

  const poll = () => {
    try {
      for (let pages = 0; pages < 10; pages++) {
        const rows = changesAfter.all(seenThrough);
        for (const row of rows) {
          seenThrough = row.id;
          if (mine.delete(row.id)) continue;
          changes.emit(row.session === null ? { subject: row.subject } : { subject: row.subject, session: row.session });
        }
        if (rows.length < SWEEP_ROWS) break;
      }
      sweep();
    } catch (error) {
      // Busy past busy_timeout, or the file gone: the next poll reads from the same place.
      if (Date.now() - pollWarnedAt < 60_000) return;
      pollWarnedAt = Date.now();
      options.logger?.warn('Cannot read identity changes from SQLite; trying again', { reason: String((error as Error)?.message ?? error) });
    }
  };
  const startPolling = () => {
    seenThrough = lastChange.get()?.id ?? 0;
    poller = setInterval(poll, options.pollMs ?? 250);
    (poller as { unref?: () => void }).unref?.();
  };
  const stopPolling = () => {
    if (poller) clearInterval(poller);
    poller = null;
    mine.clear();
  };

  const rulesFrom = (rows: { pattern: string; level: string }[], name: string): AccessRules => {
    const access: Record<string, AccessLevel> = {};
    for (const { pattern, level } of rows) {
      const checked = levelSchema.safeParse(level);
      if (checked.success) access[pattern] = checked.data;
      else unusable(`the access rule ${pattern} of ${name}`, `unknown level ${level}`);
    }
    return access;
  };
  const toAccount = (row: AccountRow, access: AccessRules): Account => ({
    name: row.name,
    passwordHash: row.password_hash,
    admin: row.admin === 1,
    access,
    created: row.created,
  });

  return {
    async putAccount(account) {
      write('putAccount', (told) => {
        const existed = accountRow.get(account.name) !== undefined;
        upsertAccount.run(account.name, account.passwordHash, account.admin ? 1 : 0, account.created);
        deleteRules.run(account.name);
        for (const [pattern, level] of Object.entries(account.access)) putRule.run(account.name, pattern, level);
        if (existed) tell(told, subjectOf(account.name));
      });
    },
    async getAccount(name) {
      const row = accountRow.get(name);
      return row ? toAccount(row, rulesFrom(rulesOf.all(name), name)) : null;
    },
    async listAccounts() {
      const rules = new Map<string, { pattern: string; level: string }[]>();
      for (const rule of allRules.all()) {
        const list = rules.get(rule.name) ?? [];
        list.push(rule);
        rules.set(rule.name, list);
      }
      return allAccounts
        .all()
        .map((row) => toAccount(row, rulesFrom(rules.get(row.name) ?? [], row.name)))
        .sort((a, b) => (a.name < b.name ? -1 : 1)); // the memory store's order (UTF-16), not SQLite's (bytes)
    },
    async deleteAccount(name) {
      return write('deleteAccount', (told) => {
        reads.deleteOf(subjectOf(name)); // first: count() reads the changes of the last statement
        deleteAccountRow.run(name);
        if (count() === 0) return false;
        deleteRules.run(name);
        deleteTokens.run(name);
        deleteSessionsOfRows.run(subjectOf(name));
        tell(told, subjectOf(name));
        return true;
      });
    },
    async setAccess(name, pattern, level) {
      return write('setAccess', (told) => {
        if (!accountRow.get(name)) return false;
        if (level === null) deleteRule.run(name, pattern);
        else putRule.run(name, pattern, level);
        tell(told, subjectOf(name));
        return true;
      });
    },
    async addAccessToken(digest, token) {
      write('addAccessToken', () => putToken.run(digest, token.name, token.created, token.expires));
    },
    async findAccessToken(digest) {
      const token = tokenRow.get(digest);
      return token && (token.expires === null || token.expires > Date.now()) ? { ...token } : null;
    },
    async revokeAccessTokens(name, digest) {
      return write('revokeAccessTokens', (told) => {
        if (digest === undefined) deleteTokens.run(name);
        else deleteToken.run(name, digest);
        const n = count();
        if (n) tell(told, subjectOf(name));
        return n;
      });
    },
    async putSession(digest, session) {
      write('putSession', () =>
        putSessionRow.run(digest, session.subject, session.name, session.admin ? 1 : 0, session.rules === null ? null : JSON.stringify(session.rules),
          session.created, session.seen, session.expires),
      );
    },
    async getSession(digest, idleMs) {
      const row = sessionRow.get(digest);
      if (!row) return null;
      const now = Date.now();
      let rules: AccessRules | null = null;
      if (row.rules !== null) {
        const read = readJson(rulesSchema, row.rules);
        if (!('value' in read)) {
          unusable('the rules of a session', read.problem);
          return null; // signed out, as an expired one
        }
        rules = read.value;
      }
      if (row.expires <= now || row.seen + idleMs <= now) {
        try {
          write('getSession', () => deleteSessionRow.run(digest));
        } catch {
          // busy: it is ended all the same, and the sweep deletes it at its end
        }
        return null;
      }
      return { subject: row.subject, name: row.name, admin: row.admin === 1, rules, created: row.created, seen: row.seen, expires: row.expires } satisfies Session;
    },
    async touchSession(digest, seen) {
      write('touchSession', () => touch.run(seen, digest));
    },
    async deleteSession(digest) {
      write('deleteSession', (told) => {
        const row = sessionRow.get(digest);
        if (!row) return;
        deleteSessionRow.run(digest);
        tell(told, row.subject, digest);
      });
    },
    async deleteSessionsOf(subject) {
      return write('deleteSessionsOf', (told) => {
        deleteSessionsOfRows.run(subject);
        const n = count();
        if (n) tell(told, subject);
        return n;
      });
    },
    setReadPosition: reads.setReadPosition, readPositions: reads.readPositions,
    onIdentityChange(listener) {
      const off = changes.subscribe(listener);
      if (listeners++ === 0 && !closed) startPolling();
      let on = true;
      return () => {
        if (!on) return;
        on = false;
        off();
        if (--listeners === 0) stopPolling();
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      stopPolling();
      if (own) db.close();
    },
  };
}
