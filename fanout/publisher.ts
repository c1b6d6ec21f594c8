import { deleteFrame, editFrame, messageFrame, presenceFrame, typingFrame } from '../views/frames.ts';
import type { ChatMessage, Presence, PresenceChange } from '../lib/chat-types.ts';
import type { FanoutMetrics } from './metrics.ts';
import { encodeEntry, FORMATS, KIND_DELETE, KIND_EDIT, KIND_MESSAGE, KIND_PRESENCE, KIND_STATUS, KIND_TYPING, type EncodedEntry } from './shm/entry.ts';
import type { LogWriter } from './shm/shared-log.ts';
import type { RoomWords } from './shm/room-words.ts';

export interface PublisherOptions {
  log: LogWriter;
  rooms: RoomWords;
  /** The number of a client id that has a stream here (-1: none): a Worker knows its client's messages by it. */
  clientNo(client: string | null): number;
  metrics: FanoutMetrics;
  /** An entry of the room at `word` (-1: no stream follows it) went into the log as `seq`. */
  appended(word: number, seq: number): void;
  /** A room's presence goes out at most this often, with every change since the last. */
  presenceEveryMs: number;
  /** Who is in a room right now, read when a coalesced presence event goes out. */
  members(room: string): Presence;
  /** A room's typing notices go out at most this often: one wave carries every typist's since the last. */
  typingEveryMs: number;
}

/** Typists of one room kept per window; past it a window's newcomers wait for the next (a page's notice repeats). */
const MAX_TYPISTS = 32;

/**
 * Writes events into the shared log, rendered once in every format, and wakes the stream Workers of the event's
 * room, and only those (a Worker that is behind takes every waiting entry per wake, so wakes batch themselves
 * under load). Presence is coalesced per room: a crowd connecting at once would otherwise send every stream one
 * event per arrival (N²).
 */
export function createPublisher(options: PublisherOptions) {
  const { log, rooms, metrics } = options;
  const presenceTimers = new Map<string, ReturnType<typeof setTimeout>>();
  const pendingChanges = new Map<string, PresenceChange[]>();
  /** Per room, the typists of the current window: client id → name. */
  const typists = new Map<string, Map<string, string>>();
  const typingTimers = new Map<string, ReturnType<typeof setTimeout>>();

  const append = (room: string, entry: EncodedEntry, timed = true) => {
    const word = rooms.wordOf(room);
    const seq = log.append(entry.bytes, word, entry.meta);
    if (timed) metrics.appended(seq);
    options.appended(word, seq);
    if (word >= 0) rooms.signal(word, seq);
  };
  /**
   * One entry per typist, each carrying its client's number so that client's own streams skip it (one entry
   * cannot say "alice is typing" to bob and "bob is typing" to alice); appended together, they reach the room's
   * Workers in one wave.
   */
  const publishTyping = (room: string) => {
    typingTimers.delete(room);
    const window = typists.get(room);
    typists.delete(room);
    if (!window || rooms.wordOf(room) < 0) return; // nobody here follows the room
    for (const [client, name] of window) {
      const frames = FORMATS.map((f) => typingFrame({ room, name }, f));
      append(room, encodeEntry({ kind: KIND_TYPING, id: '', clientNo: options.clientNo(client), frames }));
    }
  };
  const publishPresence = (p: Presence) =>
    append(p.room, encodeEntry({ kind: KIND_PRESENCE, id: '', clientNo: -1, frames: FORMATS.map((f) => presenceFrame(p, f)) }));

  return {
    message(m: ChatMessage) {
      append(m.room, encodeEntry({ kind: KIND_MESSAGE, id: m.id, clientNo: options.clientNo(m.client), frames: FORMATS.map((f) => messageFrame(m, f)) }));
    },
    /** A message of `room` was deleted (here or on another instance): its streams are told, so pages remove it. */
    removed(room: string, id: string) {
      if (rooms.wordOf(room) < 0) return; // nobody here follows the room
      append(room, encodeEntry({ kind: KIND_DELETE, id: '', clientNo: -1, frames: FORMATS.map((f) => deleteFrame({ room, id }, f)) }), false);
    },
    /** A message was edited (here or on another instance): its room's streams are told, so pages show the new text. */
    edited(m: ChatMessage) {
      if (rooms.wordOf(m.room) < 0) return; // nobody here follows the room
      append(m.room, encodeEntry({ kind: KIND_EDIT, id: '', clientNo: -1, frames: FORMATS.map((f) => editFrame(m, f)) }), false);
    },
    /** A status snapshot, rendered in every format (FORMATS order), for `room`: not timed, it is no chat event. */
    status(room: string, frames: string[]) {
      append(room, encodeEntry({ kind: KIND_STATUS, id: '', clientNo: -1, frames }), false);
    },
    /** A room's presence changed: goes out with the room's other changes at the end of the current window. */
    presence(room: string, change: PresenceChange | null) {
      const changes = pendingChanges.get(room) ?? [];
      if (change) changes.push(change);
      pendingChanges.set(room, changes);
      if (presenceTimers.has(room)) return;
      presenceTimers.set(room, setTimeout(() => {
        presenceTimers.delete(room);
        pendingChanges.delete(room);
        publishPresence({ ...options.members(room), change: changes.at(-1) ?? null, changes });
      }, options.presenceEveryMs));
    },
    /** `client` is typing in `room` as `name`: told to the room's other streams at the end of the window. */
    typing(room: string, client: string, name: string) {
      let window = typists.get(room);
      if (!window) typists.set(room, (window = new Map()));
      if (window.size < MAX_TYPISTS || window.has(client)) window.set(client, name);
      if (!typingTimers.has(room)) typingTimers.set(room, setTimeout(publishTyping, options.typingEveryMs, room));
    },
    close() {
      for (const timer of presenceTimers.values()) clearTimeout(timer);
      for (const timer of typingTimers.values()) clearTimeout(timer);
    },
  };
}
