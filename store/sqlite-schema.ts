import { openSqlite, type SqlDatabase } from './sqlite-driver.ts';

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
  db.exec('CREATE TABLE IF NOT EXISTS rooms (room TEXT PRIMARY KEY, trimmed_through INTEGER NOT NULL)');
  db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)');
  // A new database's ids start at its creation time in ms × 1000, so ids from a database it replaced (a wiped data
  // directory) are all older than its first: known as not its own (SincePage.unknown). A database from before
  // this rule keeps its ids and starts at 0.
  db.exec(`INSERT OR IGNORE INTO meta (key, value)
    SELECT 'first_id', CASE WHEN EXISTS (SELECT 1 FROM messages) THEN 0 ELSE ${Date.now() * 1000} END`);
  db.exec(`INSERT INTO sqlite_sequence (name, seq)
    SELECT 'messages', value FROM meta WHERE key = 'first_id' AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'messages')`);
  return db;
}

export interface Row {
  id: number;
  room: string;
  name: string;
  text: string;
  ts: number;
  client: string | null;
}

/** Between the store and its writer thread. */
export type WriterRequest =
  /** First message: which file to open and how. */
  | { type: 'open'; file: string; sync: SyncMode; retention: number }
  | { type: 'append'; seq: number; room: string; name: string; text: string; ts: number; client: string | null }
  | { type: 'close' };
export type WriterReply =
  | { type: 'appended'; rows: { seq: number; row: Row }[] }
  | { type: 'failed'; seqs: number[]; error: string }
  | { type: 'closed' };
