/**
 * The SQLite writer thread. Appends arrive as messages; every append that is waiting when the thread gets to
 * run goes into one transaction, so one fsync (synchronous=FULL) covers a whole batch and the main thread never
 * blocks on the disk. Replies come back in commit order, which is id order.
 */
import { connectParent } from '../runtime/thread.ts';
import { openDatabase, type Row, type SyncMode, type WriterReply, type WriterRequest } from './sqlite-schema.ts';

const parent = connectParent<WriterRequest, WriterReply>();

/** Trimming on every append would scan each time; every TRIM_EVERY appends to a room keeps it cheap. */
const TRIM_EVERY = 64;
type Append = Extract<WriterRequest, { type: 'append' }>;

function createWriter(file: string, sync: SyncMode, retention: number) {
  const db = openDatabase(file, sync);
  const insert = db.prepare<Row, [string, string, string, number, string | null]>(
    'INSERT INTO messages (room, name, text, ts, client) VALUES (?, ?, ?, ?, ?) RETURNING *',
  );
  const cutoff = db.prepare<{ id: number }, [string, number]>('SELECT id FROM messages WHERE room = ? ORDER BY id DESC LIMIT 1 OFFSET ?');
  const deleteThrough = db.prepare<never, [string, number]>('DELETE FROM messages WHERE room = ? AND id <= ?');
  const markTrimmed = db.prepare<never, [string, number]>(
    'INSERT INTO rooms (room, trimmed_through) VALUES (?, ?) ON CONFLICT (room) DO UPDATE SET trimmed_through = excluded.trimmed_through',
  );
  const trimRoom = (room: string) => {
    const edge = cutoff.get(room, retention)?.id;
    if (edge === undefined) return;
    deleteThrough.run(room, edge);
    markTrimmed.run(room, edge);
  };
  const sinceTrim = new Map<string, number>();

  const commit = db.transaction((appends: Append[]) => {
    const rows = appends.map((a) => ({ seq: a.seq, row: insert.get(a.room, a.name, a.text, a.ts, a.client)! }));
    for (const a of appends) {
      const n = (sinceTrim.get(a.room) ?? 0) + 1;
      if (n >= TRIM_EVERY) {
        sinceTrim.delete(a.room);
        trimRoom(a.room);
      } else sinceTrim.set(a.room, n);
    }
    return rows;
  });

  let batch: Append[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const appends = batch;
    batch = [];
    if (appends.length === 0) return;
    let reply: WriterReply;
    try {
      reply = { type: 'appended', rows: commit(appends) };
    } catch (error) {
      reply = { type: 'failed', seqs: appends.map((a) => a.seq), error: String(error) };
    }
    parent.postMessage(reply);
  };

  return {
    append(request: Append) {
      batch.push(request);
      if (!scheduled) {
        scheduled = true;
        setTimeout(flush, 0); // after the appends already queued behind this one
      }
    },
    close() {
      flush();
      db.close();
    },
  };
}

let writer: ReturnType<typeof createWriter> | null = null;

parent.onMessage((request) => {
  switch (request.type) {
    case 'open':
      writer = createWriter(request.file, request.sync, request.retention);
      break;
    case 'append':
      writer!.append(request);
      break;
    case 'close':
      writer?.close();
      parent.postMessage({ type: 'closed' });
      break;
    default:
      request satisfies never;
  }
});
