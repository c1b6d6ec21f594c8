import { createEmitter } from './emitter.ts';
import { type Row, type SyncMode, type WriterReply, type WriterRequest } from './sqlite-schema.ts';
import { openDataFolder } from './sqlite-start.ts';
import { failureKind, writeFailure } from './sqlite-disk.ts';
import { createOutageLog } from './outage-log.ts';
import type { ChatMessage, NewMessage, ReplyQuote } from '../lib/chat-types.ts';
import type { Logger } from '../lib/logger.ts';
import { IDEMPOTENCY_TTL_MS, IdempotencyConflictError, StoreUnavailableError, type AppendOnce, type BeforePage, type IdempotencyKey, type SincePage, type Store } from './types.ts';
import { spawnThread } from '../runtime/thread.ts';
import { createSqliteIdentity } from './sqlite-identity.ts';
import { createSqliteSearch } from './sqlite-search.ts';
import type { IdentityStore } from './identity-types.ts';

export interface SqliteStoreOptions {
  /** Directory of the database file (created if missing). The file is `chat.sqlite`. */
  dir: string;
  /** Messages kept per room. Default 10,000. */
  retention?: number;
  /** `full` (default): a resolved append is fsynced. `normal`: it survives a process crash, not a power cut. */
  sync?: SyncMode;
  /**
   * Take the folder's one-server lock (data-lock.ts): while this store is open, another store opened with `lock`
   * on the folder, in any process, fails with StoreStartError. The server's store takes it; a tool that reads or
   * edits the store beside a running server does not.
   */
  lock?: boolean;
  /** Hears that writes fail (a full disk), one warning a minute per kind of failure (outage-log.ts). */
  logger?: Logger;
  /** How long an idempotency key is remembered, in ms. Default IDEMPOTENCY_TTL_MS (24 h). */
  idempotencyTtlMs?: number;
  /** Test-only: while this file exists the database may not grow, as on a full disk (sqlite-disk.ts). */
  diskFullFlag?: string;
}

// `verified` is 1, 0 or NULL in the table; a message says it only when it was said (ChatMessage.verified), and
// `edited` only when it was edited.
const toMessage = ({ verified, author, edited, reply_to, ...r }: Row): ChatMessage => ({
  ...r,
  ...(reply_to == null ? {} : { replyTo: JSON.parse(reply_to) as ReplyQuote }),
  id: String(r.id),
  ...(verified == null ? {} : { verified: verified === 1 }),
  ...(author == null ? {} : { author }),
  ...(edited == null ? {} : { edited }),
});

/**
 * The default backend: one SQLite file in WAL mode. Writes go through a writer thread that commits whatever is
 * waiting as one transaction (group commit), so `append` resolves once its message is durable without the main
 * thread ever waiting on the disk; reads run on the main thread on their own connection. Ids come from
 * AUTOINCREMENT: never reused, increasing in every room, continuing across restarts, and starting at the database's
 * creation time in ms × 1000 (sqlite-schema.ts). A folder that cannot be used throws StoreStartError; a write the
 * disk refuses (full, failing) rejects with StoreUnavailableError (503), and the next batch tries the disk again.
 */
export function createSqliteStore(options: SqliteStoreOptions): Store & IdentityStore {
  const retention = options.retention ?? 10_000;
  const sync = options.sync ?? 'full';
  const { file, db, release } = openDataFolder(options.dir, sync, options.lock ?? false);
  const after = db.prepare<Row, [string, number, number]>('SELECT * FROM messages WHERE room = ? AND id > ? ORDER BY id LIMIT ?');
  const last = db.prepare<Row, [string, number]>(
    'SELECT * FROM (SELECT * FROM messages WHERE room = ? ORDER BY id DESC LIMIT ?) ORDER BY id',
  );
  const older = db.prepare<Row, [string, number, number]>(
    'SELECT * FROM (SELECT * FROM messages WHERE room = ? AND id < ? ORDER BY id DESC LIMIT ?) ORDER BY id',
  );
  const trimmedThrough = db.prepare<{ t: number }, [string]>('SELECT trimmed_through AS t FROM rooms WHERE room = ?');
  const firstId = db.prepare<{ v: number }, []>("SELECT value AS v FROM meta WHERE key = 'first_id'").get()?.v ?? 0;
  const lastIssued = db.prepare<{ seq: number }, []>("SELECT seq FROM sqlite_sequence WHERE name = 'messages'");
  // Accounts, tokens and sessions on this same main-thread connection (its tables made here; sqlite-identity.ts).
  const { close: closeIdentity, ...identity } = createSqliteIdentity({ db });

  const emitter = createEmitter<ChatMessage>();
  const removals = createEmitter<{ room: string; id: string }>();
  const one = db.prepare<Row, [string, number]>('SELECT * FROM messages WHERE room = ? AND id = ?');
  // The newest message of each room: MAX(id) per room walks the (room, id) index once.
  const newestPerRoom = db.prepare<{ room: string; id: number; ts: number }, [number]>(
    'SELECT room, id, ts FROM messages WHERE id IN (SELECT MAX(id) FROM messages GROUP BY room) ORDER BY id DESC LIMIT ?',
  );
  // On this connection, not the writer's: a delete is rare and small, and SQLite serialises it with the batches.
  const deleteOne = db.prepare<never, [string, number]>('DELETE FROM messages WHERE room = ? AND id = ?');
  // Edits too: `edited` is now, or the message's own time when the clock says earlier.
  const editOne = db.prepare<Row, [string, number, string, number]>(
    'UPDATE messages SET text = ?, edited = max(?, ts) WHERE room = ? AND id = ? RETURNING *',
  );
  const edits = createEmitter<ChatMessage>();
  const asRowId = (id: string) => (/^\d{1,16}$/.test(id) ? Number(id) : -1);
  const waiting = new Map<number, { resolve(stored: AppendOnce): void; reject(e: Error): void }>();
  let nextSeq = 0;
  let closed: (() => void) | null = null;
  const writer = spawnThread<WriterRequest, WriterReply>('store/sqlite-writer');
  const send = (request: WriterRequest) => writer.postMessage(request);
  const idempotencyTtlMs = options.idempotencyTtlMs ?? IDEMPOTENCY_TTL_MS;
  send({ type: 'open', file, sync, retention, idempotencyTtlMs, diskFullFlag: options.diskFullFlag ?? process.env.THREADCHAT_TEST_DISK_FULL });
  const outages = createOutageLog(options.logger);
  let broken: string | null = null;
  // A writer that dies takes its waiting appends with it: they fail (503), none is acknowledged falsely.
  writer.onerror = (error) => {
    broken = `the SQLite writer failed: ${error.message}`;
    for (const w of waiting.values()) w.reject(new StoreUnavailableError(broken));
    waiting.clear();
  };
  writer.onmessage = (reply) => {
    switch (reply.type) {
      case 'appended':
        outages.succeeded('SQLite writes again', { dir: options.dir });
        for (const { seq, row, replayed } of reply.rows) {
          const message = toMessage(row);
          if (!replayed) emitter.emit(message); // in commit order, which is id order
          waiting.get(seq)?.resolve({ message, replayed: replayed ?? false });
          waiting.delete(seq);
        }
        for (const seq of reply.conflicts) {
          waiting.get(seq)?.reject(new IdempotencyConflictError('the key was used with another message'));
          waiting.delete(seq);
        }
        break;
      case 'failed': {
        const error = writeFailure(reply.code, reply.error);
        if (error instanceof StoreUnavailableError) {
          outages.failed(failureKind(reply.code), 'SQLite cannot write: posts answer 503 until it can', { dir: options.dir, code: reply.code, reason: reply.error });
        }
        for (const seq of reply.seqs) {
          waiting.get(seq)?.reject(error);
          waiting.delete(seq);
        }
        break;
      }
      case 'closed':
        closed?.();
        break;
      default:
        reply satisfies never;
    }
  };

  /** One append through the writer; with a key, the writer checks and holds it in the same transaction. */
  const write = (input: NewMessage, key?: IdempotencyKey) => {
    if (broken) return Promise.reject(new StoreUnavailableError(broken));
    const seq = nextSeq++;
    return new Promise<AppendOnce>((resolve, reject) => {
      waiting.set(seq, { resolve, reject });
      send({ type: 'append', seq, ...input, ts: Date.now(), ...(key ? { key } : {}) });
    });
  };

  return {
    ...identity,
    kind: 'sqlite',
    async append(input: NewMessage) {
      return (await write(input)).message;
    },
    appendOnce: write,
    async since(room, afterId, limit): Promise<SincePage> {
      const from = afterId === '0' ? firstId : Number(afterId); // 0: "from the start"
      if (!/^\d+$/.test(afterId) || !Number.isSafeInteger(from) || from < firstId || from > (lastIssued.get()?.seq ?? firstId)) {
        return { messages: [], more: false, gap: false, unknown: true };
      }
      const rows = after.all(room, from, limit + 1);
      const gap = from < (trimmedThrough.get(room)?.t ?? 0);
      return { messages: rows.slice(0, limit).map(toMessage), more: rows.length > limit, gap };
    },
    async before(room, beforeId, limit): Promise<BeforePage> {
      if (beforeId === '0') return { messages: [], more: false, trimmed: false }; // nothing is older than the start
      const to = Number(beforeId);
      if (!/^\d+$/.test(beforeId) || !Number.isSafeInteger(to) || to < firstId || to > (lastIssued.get()?.seq ?? firstId)) {
        return { messages: [], more: false, trimmed: false, unknown: true };
      }
      const rows = older.all(room, to, limit + 1);
      const more = rows.length > limit;
      // The writer records each room it trims (sqlite-writer.ts), so a row there means messages were removed.
      return { messages: rows.slice(more ? 1 : 0).map(toMessage), more, trimmed: !more && trimmedThrough.get(room) !== undefined };
    },
    async recent(room, k) {
      return k > 0 ? last.all(room, k).map(toMessage) : [];
    },
    subscribe: emitter.subscribe,
    async rooms(limit) {
      return newestPerRoom.all(limit).map((r) => ({ room: r.room, lastId: String(r.id), last: r.ts }));
    },
    async find(room, id) {
      const row = one.get(room, asRowId(id));
      return row ? toMessage(row) : null;
    },
    async remove(room, id) {
      // Ids stay known by their range (since, before), so the row goes and nothing else needs to mark the gap.
      if (!one.get(room, asRowId(id))) return false; // this thread is the only one that deletes
      deleteOne.run(room, asRowId(id));
      removals.emit({ room, id });
      return true;
    },
    onRemoved: (listener) => removals.subscribe(({ room, id }) => listener(room, id)),
    async edit(room, id, text) {
      const row = editOne.get(text, Date.now(), room, asRowId(id));
      if (!row) return null;
      const edited = toMessage(row);
      edits.emit(edited);
      return edited;
    },
    onEdited: edits.subscribe,
    search: createSqliteSearch(db, toMessage),
    /** Commits what is waiting, then closes both connections. */
    async close() {
      await closeIdentity(); // its poll stops before the connection goes
      await new Promise<void>((resolve) => {
        closed = resolve;
        send({ type: 'close' });
      });
      writer.terminate();
      db.close();
      release();
    },
  } satisfies Store & IdentityStore;
}
