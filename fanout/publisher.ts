import { messageFrame, presenceFrame } from '../views/frames.ts';
import type { ChatMessage, Presence, PresenceChange } from '../lib/chat-types.ts';
import type { FanoutMetrics } from './metrics.ts';
import { encodeEntry, FORMATS, KIND_MESSAGE, KIND_PRESENCE, type EncodedEntry } from './shm/entry.ts';
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
}

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

  const append = (room: string, entry: EncodedEntry) => {
    const word = rooms.wordOf(room);
    const seq = log.append(entry.bytes, word, entry.meta);
    metrics.appended(seq);
    options.appended(word, seq);
    if (word >= 0) rooms.signal(word, seq);
  };
  const publishPresence = (p: Presence) =>
    append(p.room, encodeEntry({ kind: KIND_PRESENCE, id: '', clientNo: -1, frames: FORMATS.map((f) => presenceFrame(p, f)) }));

  return {
    message(m: ChatMessage) {
      append(m.room, encodeEntry({ kind: KIND_MESSAGE, id: m.id, clientNo: options.clientNo(m.client), frames: FORMATS.map((f) => messageFrame(m, f)) }));
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
    close() {
      for (const timer of presenceTimers.values()) clearTimeout(timer);
    },
  };
}
