/**
 * The few SQLite calls the store makes, the same on both runtimes: `bun:sqlite` on Bun (built in), and
 * `better-sqlite3` on Node (Node 20 has no `node:sqlite`, which arrives in 22.5; better-sqlite3 is pinned at 12,
 * as 13 needs Node 22). Both are synchronous, which the writer thread's group commit relies on.
 *
 * The driver is loaded with `require` at run time, so neither bundle (Bun source, Node build) refers to the
 * other runtime's module.
 */
import { createRequire } from 'node:module';

type Param = string | number | null;

export interface SqlStatement<Row, Params extends Param[]> {
  /** The first row, or undefined. */
  get(...params: Params): Row | undefined;
  all(...params: Params): Row[];
  run(...params: Params): void;
}

export interface SqlDatabase {
  exec(sql: string): void;
  prepare<Row, Params extends Param[] = []>(sql: string): SqlStatement<Row, Params>;
  /** Wraps `fn` in BEGIN … COMMIT (ROLLBACK when it throws). */
  transaction<Args extends unknown[], T>(fn: (...args: Args) => T): (...args: Args) => T;
  close(): void;
}

/** What both drivers' statements can do, as far as this file uses them. */
interface NativeStatement {
  get(...params: Param[]): unknown;
  all(...params: Param[]): unknown[];
  run(...params: Param[]): unknown;
}
interface NativeDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): NativeStatement;
  transaction<F extends (...args: never[]) => unknown>(fn: F): F & { immediate: F };
  close(): unknown;
}

const require = createRequire(import.meta.url);

function openNative(file: string): NativeDatabase {
  if (typeof Bun !== 'undefined') {
    const { Database } = require('bun:sqlite') as typeof import('bun:sqlite');
    return new Database(file, { create: true, strict: true }) as unknown as NativeDatabase;
  }
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  return new Database(file) as unknown as NativeDatabase;
}

/** Opens (creating if missing) the database file with the runtime's driver. */
export function openSqlite(file: string): SqlDatabase {
  const db = openNative(file);
  return {
    exec: (sql) => void db.exec(sql),
    prepare<Row, Params extends Param[]>(sql: string): SqlStatement<Row, Params> {
      const statement = db.prepare(sql);
      return {
        // bun:sqlite answers null for no row, better-sqlite3 undefined.
        get: (...params) => (statement.get(...params) ?? undefined) as Row | undefined,
        all: (...params) => statement.all(...params) as Row[],
        run: (...params) => void statement.run(...params),
      };
    },
    // BEGIN IMMEDIATE: the write lock is taken at the start, waiting under busy_timeout. A deferred transaction that
    // reads first and then writes fails at once (SQLITE_BUSY) when another connection wrote in between, as the
    // main thread's and the writer's connections may (seen as a 503 right after a restart).
    transaction: (fn) => db.transaction(fn).immediate,
    close: () => void db.close(),
  };
}
