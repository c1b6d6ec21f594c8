import { openWaitWords, type WaitKind } from '../runtime/wait-word.ts';
import { ROOM_SEQ, ROOM_WORD_INTS } from './protocol.ts';
import { createNumbering } from './numbering.ts';

/**
 * The main thread's side of the room words: which room holds which word, and the wake that follows an event.
 * A room holds a word while at least one stream of this instance follows it, so at most one word per stream is
 * ever needed. An event in a room no stream follows wakes nobody.
 */
export function createRoomWords(capacity: number, kind: WaitKind) {
  const buffer = new SharedArrayBuffer(4 * ROOM_WORD_INTS * Math.max(1, capacity));
  const words = new Int32Array(buffer);
  const waiter = openWaitWords(words, kind);
  const numbers = createNumbering();
  let wakes = 0;

  return {
    buffer,
    kind,
    /** The room's word, taken for one more stream (the room keeps it until release() of its last stream). */
    acquire(room: string): number {
      const word = ROOM_WORD_INTS * numbers.acquire(room);
      if (word >= words.length) {
        numbers.release(room);
        throw new RangeError('no room word left');
      }
      return word;
    },
    release: (room: string) => numbers.release(room),
    /** The room's word, or -1 when no stream of this instance follows it. */
    wordOf(room: string) {
      const no = numbers.of(room);
      return no < 0 ? -1 : ROOM_WORD_INTS * no;
    },
    /** Entry `seq` of the room at `word` is in the log: every Worker of the room wakes, with one call. */
    signal(word: number, seq: number) {
      Atomics.store(words, word + ROOM_SEQ, seq + 1);
      waiter.wakeAll(word + ROOM_SEQ);
      wakes++;
    },
    /** Wakes the Workers of a room without a new entry (they look at the log and their stream, e.g. to stop). */
    nudge(word: number) {
      waiter.wakeAll(word + ROOM_SEQ);
    },
    /** Rooms with a word right now, and the wake calls made so far (for /metrics and /healthz). */
    stats: () => ({ rooms: numbers.size, wakes }),
  };
}

export type RoomWords = ReturnType<typeof createRoomWords>;
