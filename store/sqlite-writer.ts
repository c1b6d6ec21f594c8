/**
 * The SQLite writer thread. Appends arrive as messages; every append that is waiting when the thread gets to
 * run goes into one transaction, so one fsync (synchronous=FULL) covers a whole batch and the main thread never
 * blocks on the disk. Replies come back in commit order, which is id order.
 */
import { connectParent } from '../runtime/thread.ts';
import { openDatabase, type Row, type WriterReply, type WriterRequest } from './sqlite-schema.ts';
import { diskFullFlag, keepWalSmall, sqliteCode } from './sqlite-disk.ts';

const parent = connectParent<WriterRequest, WriterReply>();

/** Trimming on every append would scan each time; every TRIM_EVERY appends to a room keeps it cheap. */
const TRIM_EVERY = 64;
type Append = Extract<WriterRequest, { type: 'append' }>;

/** Expired idempotency keys are deleted every PURGE_EVERY batches (an indexed range delete). */
const PURGE_EVERY = 256;
type Open = Extract<WriterRequest, { type: 'open' }>;
type Stored = { seq: number; row: Row; replayed?: true };

function createWriter({ file, sync, retention, idempotencyTtlMs, diskFullFlag: fullFlag }: Open) {
  const db = openDatabase(file, sync);
  const checkpointIfLarge = keepWalSmall(db, file);
  const applyFullFlag = diskFullFlag(db, fullFlag);
  const insert = db.prepare<Row, [string, string, string, number, string | null, number | null, string | null, string | null]>(
    'INSERT INTO messages (room, name, text, ts, client, verified, author, reply_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *',
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
  const heldKey = db.prepare<{ fingerprint: string; message: string }, [string, string, number]>(
    'SELECT fingerprint, message FROM idempotency WHERE scope = ? AND key = ? AND expires > ?',
  );
  const holdKey = db.prepare<never, [string, string, string, string, number]>(
    'INSERT OR REPLACE INTO idempotency (scope, key, fingerprint, message, expires) VALUES (?, ?, ?, ?, ?)',
  );
  const purgeKeys = db.prepare<never, [number]>('DELETE FROM idempotency WHERE expires <= ?');
  let batches = 0;
  // ts never runs backwards in id order, whatever the clock does: each is at least the one before it.
  let lastTs = db.prepare<{ ts: number }, []>('SELECT ts FROM messages ORDER BY id DESC LIMIT 1').get()?.ts ?? 0;

  /** One append inside the batch's transaction: a held key answers with its message (or a conflict). */
  const store = (a: Append, now: number, conflicts: number[]): Stored | null => {
    if (a.key) {
      const held = heldKey.get(a.key.scope, a.key.key, now);
      if (held) {
        if (held.fingerprint === a.key.fingerprint) return { seq: a.seq, row: JSON.parse(held.message) as Row, replayed: true };
        conflicts.push(a.seq);
        return null;
      }
    }
    lastTs = Math.max(lastTs, a.ts);
    const row = insert.get(a.room, a.name, a.text, lastTs, a.client, a.verified === undefined ? null : Number(a.verified), a.author ?? null, a.replyTo ? JSON.stringify(a.replyTo) : null)!;
    if (a.key) holdKey.run(a.key.scope, a.key.key, a.key.fingerprint, JSON.stringify(row), now + idempotencyTtlMs);
    return { seq: a.seq, row };
  };

  const commit = db.transaction((appends: Append[]) => {
    const now = Date.now();
    const conflicts: number[] = [];
    const rows = appends.map((a) => store(a, now, conflicts)).filter((r) => r !== null);
    if (++batches % PURGE_EVERY === 0) purgeKeys.run(now);
    for (const a of appends) {
      const n = (sinceTrim.get(a.room) ?? 0) + 1;
      if (n >= TRIM_EVERY) {
        sinceTrim.delete(a.room);
        trimRoom(a.room);
      } else sinceTrim.set(a.room, n);
    }
    return { rows, conflicts };
  });

  let batch: Append[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const appends = batch;
    batch = [];
    if (appends.length === 0) return;
    const savedTs = lastTs;
    let reply: WriterReply;
    try {
      applyFullFlag();
      reply = { type: 'appended', ...commit(appends) };
    } catch (error) {
      // The transaction rolled back; the connection stays good, and the next batch tries the disk again.
      lastTs = savedTs;
      reply = { type: 'failed', seqs: appends.map((a) => a.seq), error: (error as Error)?.message ?? String(error), code: sqliteCode(error) };
    }
    parent.postMessage(reply);
    checkpointIfLarge(); // after the reply: no post waits for it
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
      writer = createWriter(request);
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
