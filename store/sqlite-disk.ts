/**
 * SQLite and its disk: the write-ahead log kept small, the failures a disk causes told apart from bugs, and a
 * test-only way to fill the "disk" without mounting one.
 */
import { existsSync, statSync } from 'node:fs';
import type { SqlDatabase } from './sqlite-driver.ts';
import { StoreUnavailableError } from './types.ts';

/**
 * SQLite checkpoints the log once it holds 1000 pages (4 MiB) and never gives the file back: 3000 posts left a
 * 4.1 MB log beside a 0.46 MB database, and on a small volume the log alone filled the disk. So the writer
 * checkpoints (PASSIVE: it waits for no reader) after a batch that left the log past WAL_CHECKPOINT_BYTES, once
 * the batch's reply went out, so no post waits for it; and journal_size_limit cuts the file back to WAL_KEEP_BYTES
 * when the log starts over. The log is then at most WAL_CHECKPOINT_BYTES and one batch (1.1 MB after those 3000
 * posts). The test costs one stat(2) per batch; a checkpoint, whose fsync of the database is the real cost, comes
 * once per 1 MiB of log. 10,000 appends in batches of 50 took about 5% longer with --sync normal (where checkpoints
 * are the only fsyncs), no difference beyond the noise with full; half these sizes cost 10%.
 */
const WAL_CHECKPOINT_BYTES = 1024 * 1024;
const WAL_KEEP_BYTES = 512 * 1024;

/** The writer's side of the bound: call the result after each batch's reply. */
export function keepWalSmall(db: SqlDatabase, file: string): () => void {
  db.exec(`PRAGMA journal_size_limit = ${WAL_KEEP_BYTES}`);
  const wal = `${file}-wal`;
  return () => {
    if ((statSync(wal, { throwIfNoEntry: false })?.size ?? 0) <= WAL_CHECKPOINT_BYTES) return;
    try {
      db.exec('PRAGMA wal_checkpoint(PASSIVE)');
    } catch {
      // A full disk fails the checkpoint too; the next batch past the mark tries again.
    }
  };
}

/** SQLite's (extended) result code of an error, as both drivers give it in `code`: `SQLITE_FULL`, `SQLITE_IOERR_WRITE`. */
export function sqliteCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : '';
}

/**
 * Failures of the disk or the file, not of the statement: full, failing, read-only, locked by someone else. They
 * pass, or someone fixes the disk, and the same write then succeeds: 503 with Retry-After, not 500.
 */
const UNAVAILABLE = /^SQLITE_(FULL|IOERR|READONLY|BUSY|LOCKED|CANTOPEN|NOMEM|PROTOCOL)(_|$)/;

/** The kind a failure is logged under (one warning a minute each): the primary code, `SQLITE_IOERR` for `SQLITE_IOERR_WRITE`. */
export const failureKind = (code: string) => code.match(/^SQLITE_[A-Z]+/)?.[0] ?? 'error';

/**
 * The error an append that the writer could not commit rejects with. A failed fsync may still have put the
 * commit on the disk, so its outcome is unknown; any other failure rolled the transaction back.
 */
export function writeFailure(code: string, reason: string): Error {
  if (!UNAVAILABLE.test(code)) return new Error(`could not store the message: ${reason}`);
  const outcome = /^SQLITE_IOERR_(FSYNC|DIR_FSYNC)$/.test(code) ? 'unknown' : 'not-stored';
  return new StoreUnavailableError(`the store cannot write: ${reason} (${code})`, outcome);
}

/**
 * Test-only (THREADCHAT_TEST_DISK_FULL): while the file `flag` names exists the database may not grow, as on a
 * full disk: SQLite's max_page_count, held at the database's size, makes it answer SQLITE_FULL. For tests that
 * cannot mount a small file system (not root). Call the result before each batch; without a flag it does nothing.
 */
export function diskFullFlag(db: SqlDatabase, flag: string | undefined): () => void {
  if (!flag) return () => {};
  const normal = db.prepare<{ max_page_count: number }>('PRAGMA max_page_count').get()!.max_page_count;
  // SQLite keeps the limit at least the database's size: 1 means "no page more than now".
  return () => db.exec(`PRAGMA max_page_count = ${existsSync(flag) ? 1 : normal}`);
}
