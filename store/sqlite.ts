import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createEmitter } from './emitter.ts';
import { openDatabase, type Row, type SyncMode, type WriterReply, type WriterRequest } from './sqlite-schema.ts';
import type { ChatMessage, NewMessage } from '../lib/chat-types.ts';
import { StoreUnavailableError, type BeforePage, type SincePage, type Store } from './types.ts';
import { spawnThread } from '../runtime/thread.ts';

export interface SqliteStoreOptions {
  /** Directory of the database file (created if missing). The file is `chat.sqlite`. */
  dir: string;
  /** Messages kept per room. Default 10,000. */
  retention?: number;
  /** `full` (default): a resolved append is fsynced. `normal`: it survives a process crash, not a power cut. */
  sync?: SyncMode;
}

const toMessage = (r: Row): ChatMessage => ({ ...r, id: String(r.id) });

/**
 * The default backend: one SQLite file in WAL mode. Writes go through a writer thread that commits whatever is
 * waiting as one transaction (group commit), so `append` resolves once its message is durable without the main
 * thread ever waiting on the disk; reads run on the main thread on their own connection. Ids come from
 * AUTOINCREMENT: never reused, increasing in every room, continuing across restarts, and starting at the database's
 * creation time in ms × 1000 (sqlite-schema.ts).
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const retention = options.retention ?? 10_000;
  const sync = options.sync ?? 'full';
  mkdirSync(options.dir, { recursive: true });
  const file = join(options.dir, 'chat.sqlite');
  const db = openDatabase(file, sync); // creates the schema before the writer opens the file
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

  const emitter = createEmitter<ChatMessage>();
  const waiting = new Map<number, { resolve(m: ChatMessage): void; reject(e: Error): void }>();
  let nextSeq = 0;
  let closed: (() => void) | null = null;
  const writer = spawnThread<WriterRequest, WriterReply>('store/sqlite-writer');
  const send = (request: WriterRequest) => writer.postMessage(request);
  send({ type: 'open', file, sync, retention });
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
        for (const { seq, row } of reply.rows) {
          const message = toMessage(row);
          emitter.emit(message); // in commit order, which is id order
          waiting.get(seq)?.resolve(message);
          waiting.delete(seq);
        }
        break;
      case 'failed':
        for (const seq of reply.seqs) {
          waiting.get(seq)?.reject(new Error(`could not store the message: ${reply.error}`));
          waiting.delete(seq);
        }
        break;
      case 'closed':
        closed?.();
        break;
      default:
        reply satisfies never;
    }
  };

  return {
    kind: 'sqlite',
    append(input: NewMessage) {
      if (broken) return Promise.reject(new StoreUnavailableError(broken));
      const seq = nextSeq++;
      return new Promise<ChatMessage>((resolve, reject) => {
        waiting.set(seq, { resolve, reject });
        send({ type: 'append', seq, ...input, ts: Date.now() });
      });
    },
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
    /** Commits what is waiting, then closes both connections. */
    async close() {
      await new Promise<void>((resolve) => {
        closed = resolve;
        send({ type: 'close' });
      });
      writer.terminate();
      db.close();
    },
  } satisfies Store;
}
