/**
 * The SQLite writer thread. Appends arrive as messages; every append that is waiting when the thread gets to
 * run goes into one transaction, so one fsync (synchronous=FULL) covers a whole batch and the main thread never
 * blocks on the disk. Replies come back in commit order, which is id order.
 */
import { openDatabase, type Row, type SyncMode, type WriterReply, type WriterRequest } from './sqlite-schema.ts';

declare const self: Worker;

const { file, sync, retention } = await new Promise<{ file: string; sync: SyncMode; retention: number }>((resolve) => {
  self.onmessage = (e) => resolve(e.data);
});
const db = openDatabase(file, sync);
const insert = db.query<Row, [string, string, string, number, string | null]>(
  'INSERT INTO messages (room, name, text, ts, client) VALUES (?, ?, ?, ?, ?) RETURNING *',
);
const cutoff = db.query<{ id: number }, [string, number]>('SELECT id FROM messages WHERE room = ? ORDER BY id DESC LIMIT 1 OFFSET ?');
const trimRoom = (room: string) => {
  const edge = cutoff.get(room, retention)?.id;
  if (edge === undefined) return;
  db.run('DELETE FROM messages WHERE room = ? AND id <= ?', [room, edge]);
  db.run(
    'INSERT INTO rooms (room, trimmed_through) VALUES (?, ?) ON CONFLICT (room) DO UPDATE SET trimmed_through = excluded.trimmed_through',
    [room, edge],
  );
};
/** Trimming on every append would scan each time; every TRIM_EVERY appends to a room keeps it cheap. */
const TRIM_EVERY = 64;
const sinceTrim = new Map<string, number>();

type Append = Extract<WriterRequest, { type: 'append' }>;
let batch: Append[] = [];
let scheduled = false;

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
  self.postMessage(reply);
};

self.onmessage = (event: MessageEvent<WriterRequest>) => {
  const request = event.data;
  switch (request.type) {
    case 'append':
      batch.push(request);
      if (!scheduled) {
        scheduled = true;
        setTimeout(flush, 0); // after the appends already queued behind this one
      }
      break;
    case 'close':
      flush();
      db.close();
      self.postMessage({ type: 'closed' } satisfies WriterReply);
      break;
    default:
      request satisfies never;
  }
};
