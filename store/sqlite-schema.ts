import { openSqlite, type SqlDatabase } from './sqlite-driver.ts';
import type { IdempotencyKey } from './types.ts';
import type { ReplyQuote } from '../lib/chat-types.ts';

export type SyncMode = 'full' | 'normal';

/**
 * Opens the chat database with the settings both of its connections share. WAL lets the main thread read
 * while the writer commits. synchronous=FULL fsyncs every commit: an acknowledged message survives a kill -9
 * and a power cut; NORMAL survives a kill -9 only (the last commits may be lost on power loss, never corrupted).
 */
export function openDatabase(file: string, sync: SyncMode): SqlDatabase {
  const db = openSqlite(file);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.exec('PRAGMA busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room TEXT NOT NULL, name TEXT NOT NULL, text TEXT NOT NULL, ts INTEGER NOT NULL, client TEXT)`);
  db.exec('CREATE INDEX IF NOT EXISTS messages_room_id ON messages (room, id)');
  addLaterColumns(db);
  addSearchIndex(db);
  db.exec('CREATE TABLE IF NOT EXISTS rooms (room TEXT PRIMARY KEY, trimmed_through INTEGER NOT NULL)');
  db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)');
  // Idempotency keys (Store.appendOnce): the message first stored with each, kept whole so a retry is answered
  // even after retention dropped the row; the writer deletes expired keys as it goes.
  db.exec(`CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, message TEXT NOT NULL, expires INTEGER NOT NULL,
    PRIMARY KEY (scope, key)) WITHOUT ROWID`);
  db.exec('CREATE INDEX IF NOT EXISTS idempotency_expires ON idempotency (expires)');
  // A new database's ids start at its creation time in ms × 1000, so ids from a database it replaced (a wiped data
  // directory) are all older than its first: known as not its own (SincePage.unknown). A database from before
  // this rule keeps its ids and starts at 0.
  db.exec(`INSERT OR IGNORE INTO meta (key, value)
    SELECT 'first_id', CASE WHEN EXISTS (SELECT 1 FROM messages) THEN 0 ELSE ${Date.now() * 1000} END`);
  db.exec(`INSERT INTO sqlite_sequence (name, seq)
    SELECT 'messages', value FROM meta WHERE key = 'first_id' AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'messages')`);
  return db;
}

/**
 * Columns that came after the first databases: `verified` (ChatMessage.verified as 1 or 0; NULL: not said),
 * `author` (ChatMessage.author; NULL: anonymous) and `edited` (ChatMessage.edited; NULL: never edited). A database
 * without one gets it, NULL for the messages it holds.
 * Looked for again inside a write transaction, as both connections (and `bun run user` beside a server) open the
 * file and may find it missing at once.
 */
function addLaterColumns(db: SqlDatabase) {
  const missing = () => {
    const have = new Set(db.prepare<{ name: string }>('PRAGMA table_info(messages)').all().map((c) => c.name));
    return [['verified', 'INTEGER'], ['author', 'TEXT'], ['edited', 'INTEGER'], ['reply_to', 'TEXT']].filter(([name]) => !have.has(name!));
  };
  if (missing().length === 0) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    for (const [name, type] of missing()) db.exec(`ALTER TABLE messages ADD COLUMN ${name} ${type}`);
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}

/**
 * Search (store/sqlite-search.ts): an FTS5 index of the messages' text, with `messages` as its external content
 * (nothing stored twice), kept by triggers on insert (appends), delete (deletions, retention) and an update of the
 * text (edits). The tokenizer is unicode61 with accents removed (lib/search.ts reads words the same way). A database
 * without the index, or any of its triggers, gets them and the index filled from the messages it holds, once, in a
 * write transaction, as both connections (and `bun run user`) may open the file at once.
 */
function addSearchIndex(db: SqlDatabase) {
  const complete = () =>
    db.prepare<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('messages_fts', 'messages_fts_insert', 'messages_fts_delete', 'messages_fts_update')").get()?.n === 4;
  if (complete()) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    if (!complete()) {
      db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(
        text, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2')`);
      db.exec(`CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text); END`);
      db.exec(`CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text); END`);
      db.exec(`CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF text ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text); END`);
      db.exec("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')");
    }
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}

export interface Row {
  id: number;
  room: string;
  name: string;
  text: string;
  ts: number;
  client: string | null;
  /** 1, 0 or null (not said); absent from a message kept under an idempotency key before the column. */
  verified?: number | null;
  author?: string | null;
  /** The ReplyQuote as JSON, or NULL. */
  reply_to?: string | null;
  /** When it was last edited; null: never (absent, as `verified`, from a message kept before the column). */
  edited?: number | null;
}

/** Between the store and its writer thread. */
export type WriterRequest =
  /** First message: which file to open and how. */
  | { type: 'open'; file: string; sync: SyncMode; retention: number; idempotencyTtlMs: number; diskFullFlag?: string | undefined }
  /** `key`: store it once per idempotency key (Store.appendOnce). */
  | { type: 'append'; seq: number; room: string; name: string; text: string; ts: number; client: string | null; verified?: boolean; author?: string; replyTo?: ReplyQuote; key?: IdempotencyKey }
  | { type: 'close' };
export type WriterReply =
  /** `replayed`: the key was held, `row` is the message first stored with it and nothing was stored now. */
  | { type: 'appended'; rows: { seq: number; row: Row; replayed?: true }[]; conflicts: number[] }
  /** `code`: SQLite's result code (`SQLITE_FULL`, `SQLITE_IOERR_WRITE`; '' for none), which tells a full disk from a bug. */
  | { type: 'failed'; seqs: number[]; error: string; code: string }
  | { type: 'closed' };
