/**
 * Waves: how an event wakes the Workers of its room. One wake-all would make every Worker of a big room runnable
 * at once; a thousand threads at the lowest priority still outweigh the main thread (the kernel shares a core by
 * weight: 1000 × 15 against 1024), and the main thread, which accepts messages and writes every socket, starves.
 * A wave instead wakes WAVE_WIDTH Workers; each, when its pass over the log is done, wakes the next (one futex
 * wake, paid by the Worker, not by the main thread) until every Worker of the room had its turn. An event that
 * arrives meanwhile starts no wave of its own: the Workers not yet reached take it in the same pass, and the
 * wave's last Worker starts the next wave for the ones already done. So under a burst every wake carries every
 * message that arrived since that Worker's last turn, and the cost per message falls as the rate rises.
 *
 * Used by the main thread (start) and by the Workers (pass, retire), on the shared room words (protocol.ts).
 */
import type { WaitWords } from '../../runtime/wait-word.ts';
import { ROOM_BATONS, ROOM_SEQ, ROOM_STREAMS, ROOM_TO_WAKE, ROOM_WAKES, ROOM_WAVE, ROOM_WAVE_SEQ } from './protocol.ts';

/** Workers of a room awake at once in a wave. Two cores here: a few keep them busy and leave the main thread room. */
export const WAVE_WIDTH = Number(process.env.THREADCHAT_WAVE_WIDTH ?? 4);

export function createRoomWaves(words: Int32Array, waiter: WaitWords) {
  /** Starts a wave in the room at `word` unless one runs; the running one then carries the new entry. */
  const start = (word: number) => {
    if (Atomics.compareExchange(words, word + ROOM_WAVE, 0, 1) !== 0) return false;
    Atomics.store(words, word + ROOM_WAVE_SEQ, Atomics.load(words, word + ROOM_SEQ));
    const streams = Atomics.load(words, word + ROOM_STREAMS);
    const batons = Math.max(1, Math.min(WAVE_WIDTH, streams));
    Atomics.store(words, word + ROOM_TO_WAKE, streams - batons);
    Atomics.store(words, word + ROOM_BATONS, batons);
    const woke = waiter.wake(word + ROOM_SEQ, batons);
    Atomics.add(words, word + ROOM_WAKES, woke);
    for (let i = woke; i < batons; i++) retire(word); // fewer asleep than batons: the rest are awake already
    return true;
  };

  /**
   * A baton goes out of the wave. The last one ends it, and starts the next if the room moved meanwhile. (At or
   * below 1: after a reset(), batons of the forgotten wave may still come back; the count then ends waves early,
   * which costs a wave more, never a missed entry: whoever was not reached wakes at its timed wait.)
   */
  const retire = (word: number) => {
    if (Atomics.sub(words, word + ROOM_BATONS, 1) > 1) return;
    Atomics.store(words, word + ROOM_WAVE, 0);
    // After the store above: an entry signalled before it is seen here; one after it finds no wave and starts one.
    if (Atomics.load(words, word + ROOM_SEQ) !== Atomics.load(words, word + ROOM_WAVE_SEQ)) start(word);
  };

  return {
    start,
    /** A woken Worker's pass is done (or it is about to wait on something else): it wakes the next one. */
    pass(word: number) {
      if (Atomics.sub(words, word + ROOM_TO_WAKE, 1) > 0 && waiter.wake(word + ROOM_SEQ, 1) === 1) {
        Atomics.add(words, word + ROOM_WAKES, 1);
        return;
      }
      retire(word); // everyone had a turn, or nobody is left asleep to take it
    },
    /**
     * The main thread's safety net for a wave whose baton went missing (a Worker terminated while it held one):
     * forget the wave, and start another if entries wait.
     */
    reset(word: number) {
      Atomics.store(words, word + ROOM_BATONS, 0);
      Atomics.store(words, word + ROOM_WAVE, 0);
      start(word); // the Workers the lost wave did not reach still need their turn
    },
  };
}

export type RoomWaves = ReturnType<typeof createRoomWaves>;
