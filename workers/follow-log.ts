/**
 * A stream following the shared event log live. It keeps the entries of its room that its client should see
 * (not the client's own, nothing twice) and copies their frames straight from the log into its ring. This is the
 * hottest loop of the server (one per open stream, every message): per entry it reads integer fields only, and
 * awaits nothing unless the ring is full.
 */
import {
  compareIdParts, idHi, KIND_MESSAGE, META_CLIENT, META_FRAMES, META_ID_DASH, META_ID_HIGH, META_ID_LO, META_ID_LOW,
  META_KIND, FORMAT_INDEX,
} from '../fanout/shm/entry.ts';
import { LOG_INDEX_META, LOG_INDEX_OFFSET, ROOM_SEQ, type StreamOptions } from '../fanout/shm/protocol.ts';
import type { RoomWaves } from '../fanout/shm/room-waves.ts';
import type { LogReader } from '../fanout/shm/shared-log.ts';
import type { WaitWords } from '../runtime/wait-word.ts';
import type { LastId } from './last-id.ts';
import type { RingOutput } from './ring-output.ts';
import type { StopSignal } from './stop-signal.ts';

/** Longest a following Worker blocks before its event loop runs (messages from the main thread, heartbeats). */
const YIELD_MS = 1000;
/** How long `?fault=stall` holds a wave (protocol.ts). */
const STALL_MS = 3000;
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Woken by a wave, a stream holds one of its batons until its pass is done (fanout/shm/room-waves.ts). */
export function createBaton(waves: RoomWaves, roomWord: number) {
  const baton = {
    held: false,
    /** Wakes the next Worker of the wave, if this one holds a baton. */
    pass() {
      if (!baton.held) return;
      baton.held = false;
      waves.pass(roomWord);
    },
  };
  return baton;
}

export type Baton = ReturnType<typeof createBaton>;

export interface FollowParts {
  log: LogReader;
  rooms: Int32Array;
  waiter: WaitWords;
  options: StreamOptions;
  output: RingOutput;
  last: LastId;
  stop: StopSignal;
  baton: Baton;
}

/**
 * Returns follow(seq): follows the log from `seq`, and returns when the stream stopped or this reader fell so far
 * behind that entries were overwritten. While nothing new is in its room the thread blocks on the room's word
 * (runtime/wait-word.ts); every YIELD_MS it lets its event loop run, so messages from the main thread (close) and
 * timers (heartbeat) are not held up.
 */
export function createLogFollower({ log, rooms, waiter, options, output, last, stop, baton }: FollowParts) {
  const { ring, ringBell } = output;
  const frameField = LOG_INDEX_META + META_FRAMES + 2 * FORMAT_INDEX[options.format];
  const { roomWord, clientNo } = options;
  const roomSeq = roomWord + ROOM_SEQ;
  let stall = options.fault === 'stall';

  const followLog = async (seq: number): Promise<void> => {
    let yielded = Date.now();
    while (!stop.stopped) {
      // In this order: the main thread signals an entry of the room before it appends the next one, so every
      // entry of the room below published - 1 is already counted in roomNow.
      const published = log.seq;
      const roomNow = Atomics.load(rooms, roomSeq); // 1 + the room's newest signalled entry
      if (roomNow <= seq) {
        // Nothing of this room in [seq, published - 1): skip other rooms' entries unread, then block. An entry
        // signalled after the load above changes the word, and the wait returns at once.
        if (published - 1 > seq) seq = published - 1;
        baton.pass(); // caught up: the next Worker of the wave takes its turn
        baton.held = waiter.wait(roomSeq, roomNow, YIELD_MS);
        if (baton.held && stall) {
          stall = false;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, STALL_MS);
        }
      } else {
        const { index, data } = log;
        for (; seq < published; seq++) {
          // Integer fields only (entry.ts): the room by its word, the sender by its number, the id as numbers.
          const at = log.slot(seq);
          if (at < 0) return;
          if (log.roomWord(seq) !== roomWord) {
            if (!log.intact(seq)) return; // the word read may be a newer entry's: fell behind, catch up
            continue; // another room's entry: its bytes are never read
          }
          const message = index[at + LOG_INDEX_META + META_KIND] === KIND_MESSAGE;
          const hi = idHi(index[at + LOG_INDEX_META + META_ID_HIGH]!, index[at + LOG_INDEX_META + META_ID_LOW]!);
          const lo = index[at + LOG_INDEX_META + META_ID_LO]!;
          const dash = index[at + LOG_INDEX_META + META_ID_DASH] === 1;
          const own = clientNo >= 0 && index[at + LOG_INDEX_META + META_CLIENT] === clientNo;
          const off = index[at + LOG_INDEX_OFFSET]!;
          const start = off + index[at + frameField]!;
          const end = off + index[at + frameField + 1]!;
          if (!log.intact(seq)) return;
          // The log may repeat what the replay already wrote (an append racing the history query): ids decide.
          if (message && last.hi >= 0 && compareIdParts(hi, lo, last.hi, last.lo) <= 0) continue;
          // The original server never echoed a message to its sender: the client's own entries (messages, typing)
          // are skipped, a message counting as had. An empty frame is an event this format does not carry.
          if (!own && end > start) {
            // Straight from the log into the ring (no copy in between), published only if the entry was still
            // intact after the copy. The await is on the slow path only: a full ring.
            if (!ring.stageRange(data, start, end)) await output.stage(data.subarray(start, end));
            if (!log.intact(seq)) return; // overwritten while it was copied: this reader fell behind
            ring.publishEvent(end - start, seq);
          }
          if (message) last.set(hi, lo, dash);
        }
        ringBell();
      }
      if (Date.now() - yielded >= YIELD_MS) {
        baton.pass();
        await yieldToEventLoop();
        yielded = Date.now();
      }
    }
  };

  return async (seq: number): Promise<void> => {
    try {
      await followLog(seq);
    } finally {
      baton.pass();
    }
  };
}
