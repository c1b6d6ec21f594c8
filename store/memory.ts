import type { ChatMessage, NewMessage } from '../lib/chat-types.ts';
import { compareIds, IDEMPOTENCY_TTL_MS, IdempotencyConflictError, type BeforePage, type SincePage, type Store } from './types.ts';
import { createEmitter } from './emitter.ts';
import { createMemoryIdentity } from './memory-identity.ts';
import { holdsWords, searchWords } from '../lib/search.ts';
import type { IdentityStore } from './identity-types.ts';

export interface MemoryStoreOptions {
  /** Messages kept per room; older ones are dropped. Default 10,000. */
  retention?: number;
  /** How long an idempotency key is remembered, in ms. Default IDEMPOTENCY_TTL_MS (24 h). */
  idempotencyTtlMs?: number;
}

/** Idempotency keys held at the most; past it the oldest are forgotten first (a bound on what clients can grow). */
const MAX_KEYS = 100_000;

/** The reference backend: everything in process memory, bounded per room. */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store & IdentityStore {
  const retention = options.retention ?? 10_000;
  const rooms = new Map<string, { messages: ChatMessage[]; trimmedThrough: string | null }>();
  const emitter = createEmitter<ChatMessage>();
  const removals = createEmitter<{ room: string; id: string }>();
  const edits = createEmitter<ChatMessage>();
  // Ids start at the creation time in ms × 1000: a store that replaces this one (a restart) issues larger ids, so
  // an id from before a restart is known as not this store's (SincePage.unknown).
  const firstId = Date.now() * 1000 + 1;
  let nextId = firstId;
  let lastTs = 0;
  const ttl = options.idempotencyTtlMs ?? IDEMPOTENCY_TTL_MS;
  // scope + key -> what was stored with it; a Map iterates in insertion order, so the oldest key comes first.
  const keys = new Map<string, { fingerprint: string; message: ChatMessage; expires: number }>();

  const roomOf = (room: string) => {
    let r = rooms.get(room);
    if (!r) rooms.set(room, (r = { messages: [], trimmedThrough: null }));
    return r;
  };

  /** Stores and publishes a message. `ts` never runs backwards in id order, whatever the clock does. */
  const append = (input: NewMessage) => {
    lastTs = Math.max(lastTs, Date.now());
    const message: ChatMessage = { ...input, id: String(nextId++), ts: lastTs };
    const r = roomOf(input.room);
    r.messages.push(message);
    if (r.messages.length > retention) {
      const dropped = r.messages.splice(0, r.messages.length - retention);
      r.trimmedThrough = dropped[dropped.length - 1]!.id;
    }
    emitter.emit(message);
    return message;
  };

  return {
    ...createMemoryIdentity(),
    kind: 'memory',
    append: async (input) => append(input),
    async appendOnce(input, key) {
      const name = `${key.scope}\n${key.key}`;
      const now = Date.now();
      const held = keys.get(name);
      if (held && held.expires > now) {
        if (held.fingerprint !== key.fingerprint) throw new IdempotencyConflictError('the key was used with another message');
        return { message: held.message, replayed: true };
      }
      keys.delete(name);
      const message = append(input);
      keys.set(name, { fingerprint: key.fingerprint, message, expires: now + ttl });
      for (const [oldest, entry] of keys) {
        if (keys.size <= MAX_KEYS && entry.expires > now) break;
        keys.delete(oldest);
      }
      return { message, replayed: false };
    },
    async since(room, afterId, limit): Promise<SincePage> {
      if (afterId === '0') afterId = String(firstId - 1); // "from the start"
      else if (!/^\d{1,16}$/.test(afterId) || Number(afterId) < firstId || Number(afterId) >= nextId) {
        return { messages: [], more: false, gap: false, unknown: true };
      }
      const r = rooms.get(room);
      if (!r) return { messages: [], more: false, gap: false };
      const start = r.messages.findIndex((m) => compareIds(m.id, afterId) > 0);
      const rest = start < 0 ? [] : r.messages.slice(start, start + limit + 1);
      const gap = r.trimmedThrough !== null && compareIds(afterId, r.trimmedThrough) < 0;
      return { messages: rest.slice(0, limit), more: rest.length > limit, gap };
    },
    async before(room, beforeId, limit): Promise<BeforePage> {
      if (beforeId === '0') return { messages: [], more: false, trimmed: false }; // nothing is older than the start
      if (!/^\d{1,16}$/.test(beforeId) || Number(beforeId) < firstId || Number(beforeId) >= nextId) {
        return { messages: [], more: false, trimmed: false, unknown: true };
      }
      const r = rooms.get(room);
      if (!r) return { messages: [], more: false, trimmed: false };
      let end = r.messages.findIndex((m) => compareIds(m.id, beforeId) >= 0);
      if (end < 0) end = r.messages.length;
      const start = Math.max(0, end - limit);
      const more = start > 0;
      return { messages: r.messages.slice(start, end), more, trimmed: !more && r.trimmedThrough !== null };
    },
    async recent(room, k) {
      const r = rooms.get(room);
      return r && k > 0 ? r.messages.slice(-k) : [];
    },
    subscribe: emitter.subscribe,
    async rooms(limit) {
      const kept = [...rooms].flatMap(([room, r]) => (r.messages.length ? [{ room, lastId: r.messages.at(-1)!.id, last: r.messages.at(-1)!.ts }] : []));
      return kept.sort((a, b) => compareIds(b.lastId, a.lastId)).slice(0, limit);
    },
    async find(room, id) {
      return rooms.get(room)?.messages.find((m) => m.id === id) ?? null;
    },
    async remove(room, id) {
      const messages = rooms.get(room)?.messages;
      const at = messages ? messages.findIndex((m) => m.id === id) : -1;
      if (at < 0) return false;
      messages!.splice(at, 1); // ids are known by their range (since, before), so the gap needs no marker
      removals.emit({ room, id });
      return true;
    },
    onRemoved: (listener) => removals.subscribe(({ room, id }) => listener(room, id)),
    async edit(room, id, text) {
      const messages = rooms.get(room)?.messages;
      const at = messages ? messages.findIndex((m) => m.id === id) : -1;
      if (at < 0) return null;
      // A new object in its place: a page of history handed out before keeps what it was given.
      const edited: ChatMessage = { ...messages![at]!, text, edited: Math.max(Date.now(), messages![at]!.ts) };
      messages![at] = edited;
      edits.emit(edited);
      return edited;
    },
    onEdited: edits.subscribe,
    async search(room, query, limit) {
      const words = searchWords(query);
      const messages = words.length ? (rooms.get(room)?.messages ?? []) : [];
      const found: ChatMessage[] = [];
      for (let i = messages.length - 1; i >= 0 && found.length < limit; i--) {
        if (holdsWords(messages[i]!.text, words)) found.push(messages[i]!);
      }
      return found;
    },
    async close() {
      rooms.clear();
    },
  } satisfies Store & IdentityStore;
}
