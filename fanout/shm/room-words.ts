import { openWaitWords, type WaitKind } from '../../runtime/wait-word.ts';
import { ROOM_BATONS, ROOM_SEQ, ROOM_STREAMS, ROOM_TO_WAKE, ROOM_WAKES, ROOM_WAVE, ROOM_WORD_INTS } from './protocol.ts';
import { createRoomWaves } from './room-waves.ts';
import { createNumbering } from './numbering.ts';

/**
 * The main thread's side of the room words: which room holds which word, and the wave of wakes that follows an
 * event (fanout/shm/room-waves.ts). A room holds a word while at least one stream of this instance follows it, so at
 * most one word per stream is ever needed. An event in a room no stream follows wakes nobody.
 */
/** A running wave whose counts did not move for this long is taken to have lost a baton. */
const WAVE_STALL_MS = 2000;

export function createRoomWords(capacity: number, kind: WaitKind) {
  const buffer = new SharedArrayBuffer(4 * ROOM_WORD_INTS * Math.max(1, capacity));
  const words = new Int32Array(buffer);
  const waiter = openWaitWords(words, kind);
  const numbers = createNumbering();
  const waves = createRoomWaves(words, waiter);
  let waveStarts = 0;
  let wordsUsed = 0; // words below this were ever acquired: their wake counts add up to every wake there was

  // A wave that made no progress for a while lost a baton (its Worker was terminated holding it): start anew.
  const progress = new Map<number, number>();
  const watchdog = setInterval(() => {
    for (const [, no] of numbers.entries()) {
      const word = ROOM_WORD_INTS * no;
      if (Atomics.load(words, word + ROOM_WAVE) === 0) {
        progress.delete(word);
        continue;
      }
      const mark = Atomics.load(words, word + ROOM_TO_WAKE) * 65536 + Atomics.load(words, word + ROOM_BATONS);
      if (progress.get(word) === mark) {
        waves.reset(word);
        progress.delete(word);
      } else progress.set(word, mark);
    }
  }, WAVE_STALL_MS);
  watchdog.unref?.();

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
      Atomics.add(words, word + ROOM_STREAMS, 1);
      wordsUsed = Math.max(wordsUsed, word / ROOM_WORD_INTS + 1);
      return word;
    },
    release(room: string) {
      const word = this.wordOf(room);
      if (word >= 0) Atomics.sub(words, word + ROOM_STREAMS, 1);
      numbers.release(room);
    },
    /** The room's word, or -1 when no stream of this instance follows it. */
    wordOf(room: string) {
      const no = numbers.of(room);
      return no < 0 ? -1 : ROOM_WORD_INTS * no;
    },
    /** Entry `seq` of the room at `word` is in the log: a wave wakes the room's Workers, unless one is running. */
    signal(word: number, seq: number) {
      Atomics.store(words, word + ROOM_SEQ, seq + 1);
      if (waves.start(word)) waveStarts++;
    },
    /** Rooms with a word right now, and the waves the main thread started (for /metrics and /healthz). */
    stats: () => ({ rooms: numbers.size, waves: waveStarts }),
    /** Workers woken by waves so far, in every room word (mod 2^32: take differences mod 2^32). Read by /status. */
    wakes() {
      let sum = 0;
      for (let no = 0; no < wordsUsed; no++) sum += Atomics.load(words, ROOM_WORD_INTS * no + ROOM_WAKES) >>> 0;
      return sum % 2 ** 32;
    },
    close: () => clearInterval(watchdog),
  };
}

export type RoomWords = ReturnType<typeof createRoomWords>;
