/**
 * One server per data folder. Two servers on one SQLite file would both write it without a word, and a message
 * posted to one would never reach the other's streams (each fans out only what its own writer stored).
 *
 * The lock is an OS lock, so that it dies with its holder, kill -9 included: `server.lock` in the folder, opened
 * as a SQLite database of its own with `locking_mode=EXCLUSIVE` and an exclusive transaction taken once, so
 * SQLite's fcntl(2) lock on it stays until the connection closes or the process ends (bun:sqlite and
 * better-sqlite3 alike, and across them). It is a file of its own, not chat.sqlite, so that a tool reading the
 * store while a server runs is not refused. `server.pid` beside it is written once the lock is held, and read
 * only to name the holder in a refusal: a PID file alone outlives a crash.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqlite, type SqlDatabase } from './sqlite-driver.ts';
import { StoreStartError } from './types.ts';

export interface DataLock {
  /** Lets the folder go (the PID file too): the next server may take it. */
  release(): void;
}

/** SQLite's answers when another connection holds the lock. */
const HELD = /^SQLITE_(BUSY|LOCKED)/;

/** Takes the folder's lock or throws StoreStartError naming the folder and, where known, the PID holding it. */
export function lockDataFolder(dir: string): DataLock {
  const pidFile = join(dir, 'server.pid');
  let db: SqlDatabase | null = null;
  try {
    db = openSqlite(join(dir, 'server.lock'));
    db.exec('PRAGMA busy_timeout = 0'); // a held lock is an answer, not something to wait for
    db.exec('PRAGMA locking_mode = EXCLUSIVE'); // never released once taken, until close
    db.exec('PRAGMA journal_mode = OFF'); // nothing is ever written: no journal file beside it
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
  } catch (error) {
    db?.close();
    const code = String((error as { code?: unknown })?.code ?? '');
    if (!HELD.test(code)) throw error; // not a lock held elsewhere: the caller names the folder's problem
    const holder = holderPid(pidFile);
    throw new StoreStartError(
      `the data folder ${dir} is in use by another threadchat server (${holder ? `PID ${holder}` : 'its PID is unknown'}): ` +
        'one server per data folder; stop that one, or give this one another --data',
    );
  }
  const held = db;
  try {
    // Written whole under another name and renamed, so a refusal never reads half of it.
    writeFileSync(`${pidFile}.${process.pid}`, `${process.pid}\n`, { mode: 0o600 });
    renameSync(`${pidFile}.${process.pid}`, pidFile);
  } catch (error) {
    held.close();
    throw error;
  }
  return {
    release() {
      if (holderPid(pidFile) === process.pid) rmSync(pidFile, { force: true });
      held.close();
    },
  };
}

/**
 * The PID in the folder's PID file, if that process is alive: a server killed with -9 leaves its file behind, and
 * a new holder may not have written its own yet; a dead PID names no one.
 */
function holderPid(pidFile: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM' ? pid : null; // EPERM: alive, another user's
  }
}
