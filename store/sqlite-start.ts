/**
 * The data folder at a SQLite store's start: made if missing, locked when a server opens it (data-lock.ts), the
 * database opened. What goes wrong there is the setup's, not a request's: one StoreStartError that names the
 * folder and the reason (the server prints it and exits 2), not an uncaught SQLITE_READONLY stack trace.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { lockDataFolder, type DataLock } from './data-lock.ts';
import type { SqlDatabase } from './sqlite-driver.ts';
import { openDatabase, type SyncMode } from './sqlite-schema.ts';
import { StoreStartError } from './types.ts';

export interface OpenedFolder {
  /** The database file, `chat.sqlite` in the folder. */
  file: string;
  /** The main thread's connection, the schema made. */
  db: SqlDatabase;
  /** Lets the folder's lock go (nothing without `lock`). */
  release(): void;
}

export function openDataFolder(dir: string, sync: SyncMode, lock: boolean): OpenedFolder {
  let held: DataLock | null = null;
  try {
    makeFolder(dir);
    keepPrivate(dir);
    held = lock ? lockDataFolder(dir) : null; // before the database: a refused server touches nothing of it
    const file = join(dir, 'chat.sqlite');
    const db = openDatabase(file, sync); // creates the schema before the writer opens the file
    const release = held ? held.release : () => {};
    return { file, db, release };
  } catch (error) {
    held?.release();
    throw startError(dir, error);
  }
}

function makeFolder(dir: string) {
  try {
    mkdirSync(dir, { recursive: true });
    return;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
  }
  mkdirSync(dir); // Node's recursive mkdir says ENOENT where the plain one says EROFS or EACCES: the real reason
}

/**
 * The folder 0700 and its files 0600, whatever the umask: messages, accounts and sessions are nobody else's to
 * read. chat.sqlite is made here, before SQLite opens it, because SQLite gives the files it makes beside it (the
 * write-ahead log, the shared memory) the database file's own mode. A step the file system refuses is left to the
 * opening that follows, which names the reason.
 */
function keepPrivate(dir: string) {
  const tryTo = (step: () => void) => {
    try {
      step();
    } catch {
      // read-only, or another owner's: the open below says why, if it matters
    }
  };
  tryTo(() => chmodSync(dir, 0o700));
  for (const name of ['chat.sqlite', 'chat.sqlite-wal', 'chat.sqlite-shm', 'server.lock', 'server.pid']) {
    const path = join(dir, name);
    if (name === 'chat.sqlite' || name === 'server.lock') tryTo(() => closeSync(openSync(path, 'a', 0o600)));
    if (existsSync(path)) tryTo(() => chmodSync(path, 0o600));
  }
}

/** The reasons a person can act on, for the codes a data folder gives at start. */
const REASONS: Record<string, string> = {
  EROFS: 'it is on a read-only file system',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'the disk is full',
  ENOTDIR: 'a part of its path is not a folder',
  ENOENT: 'a folder above it is missing',
  SQLITE_READONLY: 'its database cannot be written (read-only)',
  SQLITE_CANTOPEN: 'its files cannot be opened or created',
  SQLITE_FULL: 'the disk is full',
  SQLITE_NOTADB: 'chat.sqlite there is not a SQLite database',
};

/**
 * An error of the environment, which carries a code (errno: EACCES, EROFS; SQLite's: SQLITE_READONLY,
 * SQLITE_CANTOPEN), as one line naming the folder; anything else is a bug and stays as it is.
 */
function startError(dir: string, error: unknown): unknown {
  if (error instanceof StoreStartError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error;
  const said = String((error as Error).message ?? error).split('\n')[0]!;
  const reason = REASONS[code] ?? REASONS[code.match(/^SQLITE_[A-Z]+/)?.[0] ?? ''] ?? said;
  return new StoreStartError(`cannot use the data folder ${dir}: ${reason} (${code})`);
}
