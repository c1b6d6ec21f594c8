import type { ChatMessage, NewMessage, Presence, PresenceChange } from '../lib/chat-types.ts';

export interface SincePage {
  messages: ChatMessage[];
  /** More messages follow the last one returned. */
  more: boolean;
  /** `after` is older than the oldest retained message: some messages in between were dropped by retention. */
  gap: boolean;
  /**
   * `after` was never issued by this store: it is from before the store was reset (a memory store restarted, a
   * data directory wiped, Redis flushed) or from another store. Every store's ids start above the ids of any
   * earlier store of its kind (they begin at its creation time), so such an id is older than the first, or newer
   * than the last, this store issued. `messages` is then empty.
   */
  unknown?: boolean;
}

export interface BeforePage {
  /** The messages just older than `before`, oldest first. */
  messages: ChatMessage[];
  /** Older messages than the first returned are still kept. */
  more: boolean;
  /**
   * Nothing older is kept (`more` is false) and the room has lost messages to retention: the history did not
   * start here. False for a room that kept everything it was ever sent.
   */
  trimmed: boolean;
  /** `before` was never issued by this store (as SincePage.unknown); `messages` is then empty. */
  unknown?: boolean;
}

/** The storage interface every backend implements. The memory backend is the reference. */
export interface Store {
  readonly kind: string;
  /** Stores a message and returns it with its id. Resolves only once the message is durable (per backend). */
  append(message: NewMessage): Promise<ChatMessage>;
  /**
   * As append, once per idempotency key: a key stored within IDEMPOTENCY_TTL_MS returns the message first stored
   * with it (`replayed`) and stores nothing; the same key with another fingerprint throws IdempotencyConflictError.
   * The check and the append are one atomic step, so two retries racing each other store the message once.
   */
  appendOnce(message: NewMessage, key: IdempotencyKey): Promise<AppendOnce>;
  /** Messages after `afterId` in `room`, oldest first, at most `limit` (none, and `unknown`, for an id it never issued). */
  since(room: string, afterId: string, limit: number): Promise<SincePage>;
  /**
   * Messages before `beforeId` in `room`, the newest `limit` of them, oldest first ('0': none, nothing is older).
   * `limit` 0 asks only whether older messages are kept (`more`), or why not (`trimmed`).
   */
  before(room: string, beforeId: string, limit: number): Promise<BeforePage>;
  /** The last `k` messages in `room`, oldest first. */
  recent(room: string, k: number): Promise<ChatMessage[]>;
  /** Called with every appended message, in id order per room (for Redis: from every instance). */
  subscribe(listener: (message: ChatMessage) => void): () => void;
  /**
   * The rooms that keep messages, each with its newest message's id and time, newest first, at most `limit` (the
   * room list: GET /rooms).
   */
  rooms(limit: number): Promise<RoomSummary[]>;
  /** The message `id` of `room`, or null when there is none (never was, deleted, or dropped by retention). */
  find(room: string, id: string): Promise<ChatMessage | null>;
  /**
   * Deletes a message: history and resumes leave it out from now on, while its id stays one this store issued (a
   * resume from it, or from before it, is answered as ever). False when there was none. Listeners of onRemoved
   * hear it (for Redis: on every instance).
   */
  remove(room: string, id: string): Promise<boolean>;
  /** Called once per deleted message (for Redis: deleted on any instance). */
  onRemoved(listener: (room: string, id: string) => void): () => void;
  /**
   * Replaces a message's text and stamps it `edited` (now, never before its `ts`): find, history and resumes show
   * the new text from now on. The edited message, or null when there is none (never was, deleted, or dropped by
   * retention). Listeners of onEdited hear it (for Redis: on every instance).
   */
  edit(room: string, id: string, text: string): Promise<ChatMessage | null>;
  /** Called once per edit, with the message as edited (for Redis: edited on any instance). */
  onEdited(listener: (message: ChatMessage) => void): () => void;
  /**
   * The messages of `room` holding every word of `query` (lib/search.ts: any case, accents aside, each word whole or
   * the start of one; none for a query without a word), newest first, at most `limit`, as history shows them (edited
   * text; deleted ones gone). SQLite searches its FTS5 index; memory and Redis read the messages the room keeps.
   */
  search(room: string, query: string, limit: number): Promise<ChatMessage[]>;
  close(): Promise<void>;
}

/** Orders two ids: integers ("42") or Redis stream ids ("1700000000000-3"). Negative when a < b. */
export function compareIds(a: string, b: string): number {
  const pa = a.split('-');
  const pb = b.split('-');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    if (x.length !== y.length) return x.length - y.length;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * A store error the HTTP layer turns into 503 (backend unavailable) rather than 500. `outcome` says whether a
 * write it interrupted may have been stored: `unknown` when the request reached the backend and the answer did
 * not come back (a timeout), so only a retry with the same idempotency key is safe; `not-stored` otherwise.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(
    message: string,
    readonly outcome: 'not-stored' | 'unknown' = 'not-stored',
  ) {
    super(message);
  }
}

/**
 * The store cannot start on what it was given (a data folder that cannot be written, or that another server
 * holds). The message is one line naming the folder and the reason: the server prints it and exits 2, as for a
 * bad option, since no retry will help until someone changes the setup.
 */
export class StoreStartError extends Error {
  override name = 'StoreStartError';
}

/** A room in the room list: its name, and its newest message (id and time). */
export interface RoomSummary {
  room: string;
  lastId: string;
  last: number;
}

/** How long an idempotency key is remembered: 24 hours, as the IETF Idempotency-Key draft suggests. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * An Idempotency-Key as a store keeps it: `scope` is who sent it (keys of different senders never meet), `key`
 * the client's value, `fingerprint` a digest of what it was sent with (room, name, text).
 */
export interface IdempotencyKey {
  scope: string;
  key: string;
  fingerprint: string;
}

export interface AppendOnce {
  message: ChatMessage;
  /** The key was seen before: `message` is the one first stored with it, and nothing was stored now. */
  replayed: boolean;
}

/** The same idempotency key came with another message: the HTTP layer answers 422. */
export class IdempotencyConflictError extends Error {
  override name = 'IdempotencyConflictError';
}

/** What one instance contributes to a room's presence: its open streams, and how many of them each name holds. */
export interface PresenceShare {
  streams: number;
  names: Record<string, number>;
  /**
   * The client ids with a stream there, each with the name its streams go by ('' when nameless, or when its
   * streams there go by different names): an instance renames a client whose streams are on another one.
   */
  clients?: Record<string, string>;
}

/**
 * Optional ability: presence shared by every instance on the same backend (redis). Each instance shares its own
 * streams per room and keeps a current copy of the others' shares; the share of an instance that stops
 * refreshing it (crashed, cut off) expires, and the others report its members as gone.
 */
export interface SharedPresence {
  /**
   * Replaces this instance's share of `room` (0 streams withdraws it) and tells the other instances; `change` is
   * the local change that caused it, so a rename is reported as one. Never throws: a write that fails (backend
   * away) is retried by the next heartbeat.
   */
  sharePresence(room: string, share: PresenceShare, change: Presence['change']): void;
  /** The other instances' shares of `room`, summed; synchronous: the copy kept current by their notices. */
  remotePresence(room: string): PresenceShare;
  /** Called after the other instances' shares of `room` changed, with the names that came, went or were renamed. */
  onRemotePresence(listener: (room: string, changes: PresenceChange[]) => void): () => void;
  /** Asks the other instances to rename `client`'s streams in `room` (a rename made here, for streams there). */
  renameElsewhere(room: string, client: string, name: string): void;
  /** Called when another instance asks for a rename of a client's streams here. */
  onRemoteRename(listener: (room: string, client: string, name: string) => void): () => void;
  /** Tells the other instances that `client` is typing in `room` (ephemeral: nothing is kept). */
  typingElsewhere(room: string, client: string, name: string): void;
  /** Called when someone on another instance is typing. */
  onRemoteTyping(listener: (room: string, client: string, name: string) => void): () => void;
}

/** The store's shared presence when it has one (redis), else undefined (presence stays per instance). */
export function sharedPresenceOf(store: Store): SharedPresence | undefined {
  const candidate = store as Store & Partial<SharedPresence>;
  return typeof candidate.sharePresence === 'function' ? (candidate as Store & SharedPresence) : undefined;
}
