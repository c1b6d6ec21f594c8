import { Database } from 'bun:sqlite';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createEmitter } from './emitter.ts';
import type { ChatMessage, NewMessage, SincePage, Store } from './types.ts';

export interface SqliteStoreOptions {
  /** Directory of the database file (created if missing). The file is `chat.sqlite`. */
  dir: string;
  /** Messages kept per room. Default 10,000. */
  retention?: number;
}

interface Row {
  id: number;
  room: string;
  name: string;
  text: string;
  ts: number;
  client: string | null;
}

const toMessage = (r: Row): ChatMessage => ({ ...r, id: String(r.id) });
/** Trimming every append would cost a scan each time; every TRIM_EVERY appends per room keeps it cheap. */
const TRIM_EVERY = 64;

/**
 * The default backend: one SQLite file in WAL mode with synchronous=FULL, so an append's transaction is on disk
 * (fsynced) before `append` resolves and a 201 goes out; a kill -9 or power loss cannot lose an acknowledged
 * message, and WAL recovery never leaves the file half-written. Ids come from AUTOINCREMENT: never reused,
 * increasing in every room, surviving restarts.
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const retention = options.retention ?? 10_000;
  mkdirSync(options.dir, { recursive: true });
  const db = new Database(join(options.dir, 'chat.sqlite'), { create: true, strict: true });
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  db.exec('PRAGMA busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room TEXT NOT NULL, name TEXT NOT NULL, text TEXT NOT NULL, ts INTEGER NOT NULL, client TEXT)`);
  db.exec('CREATE INDEX IF NOT EXISTS messages_room_id ON messages (room, id)');
  db.exec('CREATE TABLE IF NOT EXISTS rooms (room TEXT PRIMARY KEY, trimmed_through INTEGER NOT NULL)');

  const insert = db.query<Row, [string, string, string, number, string | null]>(
    'INSERT INTO messages (room, name, text, ts, client) VALUES (?, ?, ?, ?, ?) RETURNING *',
  );
  const after = db.query<Row, [string, number, number]>(
    'SELECT * FROM messages WHERE room = ? AND id > ? ORDER BY id LIMIT ?',
  );
  const last = db.query<Row, [string, number]>(
    'SELECT * FROM (SELECT * FROM messages WHERE room = ? ORDER BY id DESC LIMIT ?) ORDER BY id',
  );
  const trimmedThrough = db.query<{ t: number }, [string]>('SELECT trimmed_through AS t FROM rooms WHERE room = ?');
  const cutoff = db.query<{ id: number }, [string, number]>(
    'SELECT id FROM messages WHERE room = ? ORDER BY id DESC LIMIT 1 OFFSET ?',
  );
  const trim = db.transaction((room: string) => {
    const edge = cutoff.get(room, retention)?.id;
    if (edge === undefined) return;
    db.run('DELETE FROM messages WHERE room = ? AND id <= ?', [room, edge]);
    db.run(
      'INSERT INTO rooms (room, trimmed_through) VALUES (?, ?) ON CONFLICT (room) DO UPDATE SET trimmed_through = excluded.trimmed_through',
      [room, edge],
    );
  });

  const emitter = createEmitter<ChatMessage>();
  const appendsSinceTrim = new Map<string, number>();

  return {
    kind: 'sqlite',
    async append(input: NewMessage) {
      const message = toMessage(insert.get(input.room, input.name, input.text, Date.now(), input.client)!);
      const n = (appendsSinceTrim.get(input.room) ?? 0) + 1;
      if (n >= TRIM_EVERY) {
        appendsSinceTrim.delete(input.room);
        trim(input.room);
      } else appendsSinceTrim.set(input.room, n);
      emitter.emit(message);
      return message;
    },
    async since(room, afterId, limit): Promise<SincePage> {
      const from = Number(afterId);
      if (!Number.isSafeInteger(from) || from < 0) return { messages: [], more: false, gap: true };
      const rows = after.all(room, from, limit + 1);
      const gap = from < (trimmedThrough.get(room)?.t ?? 0);
      return { messages: rows.slice(0, limit).map(toMessage), more: rows.length > limit, gap };
    },
    async recent(room, k) {
      return k > 0 ? last.all(room, k).map(toMessage) : [];
    },
    subscribe: emitter.subscribe,
    async close() {
      db.close();
    },
  } satisfies Store;
}
