/**
 * Everything the main thread and the per-connection Workers share: message types and shared-memory layouts.
 *
 * Four shared regions:
 * - the event log (one per server): the main thread appends each event once; a Worker reads its room's entries.
 * - the room words (one per server): one wait word per room that has streams. A Worker blocks on its room's word;
 *   an event wakes only the Workers of its room, all at once (runtime/wait-word.ts).
 * - the control block (one per server): a doorbell the main thread waits on, and one "ready" bit per stream slot,
 *   so the main thread drains only the rings that rang.
 * - the output ring (one per stream): the Worker writes SSE frames; the main thread drains them to the socket.
 *
 * Memory model: plain reads and writes of payload bytes are ordered by the Atomics operation that publishes them
 * (a writer fills bytes, then Atomics.store's the position; a reader Atomics.load's the position, then reads).
 */

import type { WaitKind } from '../../runtime/wait-word.ts';
import type { EndReason, StreamFormat } from '../../views/frames.ts';

// ---- Event log: a byte ring of variable-length entries plus an index ring addressed by sequence number ----

/** Int32 slots of the log header. */
export const LOG_SEQ = 0; // main writes: sequence number of the next entry (entries < LOG_SEQ are published). Workers wait on it.
export const LOG_OLDEST = 1; // main writes before overwriting bytes: the oldest entry whose bytes are still intact.
export const LOG_HEADER_INTS = 4;
/**
 * Index slots: [seq, byteOffset, byteLength, roomWord, ...the entry's metadata (fanout/shm/entry.ts, META_*)] per
 * entry, slot = seq % LOG_INDEX_SLOTS, LOG_INDEX_FIELDS Int32s apart. Main writes, Workers read. roomWord is the
 * entry's room word (-1: no stream follows the room), so a Worker skips other rooms' entries without reading them.
 */
export const LOG_INDEX_SEQ = 0;
export const LOG_INDEX_OFFSET = 1;
export const LOG_INDEX_LENGTH = 2;
export const LOG_INDEX_ROOM = 3;
export const LOG_INDEX_META = 4;
/** At least LOG_INDEX_META + META_INTS (fanout/shm/entry.ts: 6 + 2 per format, 16 with five formats); tests/fanout/shm/entry.test.ts checks it. */
export const LOG_INDEX_FIELDS = 24;

export interface LogSizes {
  /** Entries the index can hold before the oldest is forgotten. Power of two. */
  indexSlots: number;
  /** Bytes of entry payload the ring can hold before the oldest is overwritten. */
  dataBytes: number;
}
export const DEFAULT_LOG_SIZES: LogSizes = { indexSlots: 1 << 14, dataBytes: 1 << 24 };

// ---- Room words: Int32Array, ROOM_WORD_INTS per room (64 bytes: rooms woken at once do not share a cache line) ----

/**
 * Room word r's wait word is at r * ROOM_WORD_INTS + ROOM_SEQ: main stores 1 + the log sequence number of the
 * room's newest entry, then wakes every Worker blocked on it. A Worker loads it before it reads the log and
 * blocks only while it is unchanged, so no entry is missed between its read and its wait.
 */
export const ROOM_SEQ = 0;
/**
 * A wave (fanout/shm/room-waves.ts) wakes a room's Workers a few at a time, each passing the wake on when its pass is
 * done, so the main thread is never crowded out by a thousand runnable threads. Any thread may start or end one.
 */
export const ROOM_WAVE = 1; // 1 while a wave runs; whoever moves it 0 -> 1 (compareExchange) starts the wave
export const ROOM_WAVE_SEQ = 2; // ROOM_SEQ when the running wave started: the next wave is due if it moved since
export const ROOM_TO_WAKE = 3; // Workers this wave has yet to wake
export const ROOM_BATONS = 4; // wakes in flight: a woken Worker holds one until it passes it on or retires it
export const ROOM_STREAMS = 5; // main writes: streams following the room (how many a wave wakes)
/** Workers a wave woke in this word, ever (mod 2^32; never reset, so a word's next room counts on): for /status. */
export const ROOM_WAKES = 6;
export const ROOM_WORD_INTS = 16;

// ---- Control block: Int32Array [doorbell, main waiting, pad..., ready bits (32 slots an int)] ----

/** A Worker adds 1 and notifies when it finds CTL_MAIN_WAITING set; the main thread waits on it (Atomics, async). */
export const CTL_DOORBELL = 0;
/** Main stores 1 before it waits on the doorbell; the first Worker to ring takes it back to 0 and notifies. */
export const CTL_MAIN_WAITING = 1;
/**
 * Ready bit of stream slot s: int CTL_READY + (s >> 5), bit (s & 31). A Worker sets it (Atomics.or) when its ring
 * has new bytes and rings the doorbell only if the bit was clear; main takes a whole int at once (Atomics.exchange
 * to 0) before draining those rings, so a frame written after that rings again and none is left behind.
 */
export const CTL_READY = 16;
/** Int32s of a control block for `slots` stream slots. */
export const controlInts = (slots: number) => CTL_READY + Math.ceil(slots / 32);

// ---- Output ring: Int32Array header, then data bytes. Positions are free-running uint32 (kept in Int32 slots). ----

export const OUT_WRITE = 0; // Worker writes: total bytes written (mod 2^32).
export const OUT_READ = 1; // main writes: total bytes drained (mod 2^32). The Worker waits on it when the ring is full.
// For /metrics only. Worker writes both before the OUT_WRITE store that publishes the frame; main reads them after
// loading OUT_WRITE, so whatever a drain counts is in the bytes it took.
export const OUT_EVENTS = 2; // Worker writes: SSE events published (messages, presence, history; not comments) (mod 2^32).
export const OUT_LOG_SEQ = 3; // Worker writes: 1 + the log sequence number of the newest live event published (0: none).
export const OUT_HEADER_BYTES = 16;
/** Output ring payload size per Worker. Power of two; bounds what one slow client can hold in server memory. */
export const OUT_RING_BYTES = 1 << 16;

// ---- Messages ----

/** One page of history for a Worker, already rendered in its format and filtered for its client by the main thread. */
export interface HistoryPage {
  /** The page's SSE frames end to end (a `reset` frame first when some messages were no longer kept). */
  frames: Uint8Array;
  /** Where each frame ends in `frames`, so the Worker can write them one at a time as its ring has room. */
  ends: number[];
  /** Id of the last message the page covers (written or skipped as the client's own); null for an empty page. */
  lastId: string | null;
  /** More messages follow: ask for the next page after `lastId`. */
  more: boolean;
  /** The log position to follow from once `more` is false (taken before the store was asked). */
  fromSeq: number;
  /**
   * The client's last id was never issued by this store (it is from before the store was reset, or from another
   * one): the page starts with a `reset` and the recent history, and the stream forgets that id.
   */
  restart: boolean;
}

export interface StreamOptions {
  slot: number;
  room: string;
  /** The room's word in the room words (ROOM_WORD_INTS apart); it stays the room's while this stream is open. */
  roomWord: number;
  /** The client's number in log entries (META_CLIENT), -1 without a client id; it stays the client's meanwhile. */
  clientNo: number;
  client: string | null;
  format: StreamFormat;
  /** Last id the client has seen; null means "start with recent history". */
  lastEventId: string | null;
  retryMs: number;
  heartbeatMs: number;
  /** A Worker whose ring stays full this long is a slow client and is dropped. */
  slowMs: number;
  /**
   * Test hooks, only when the server runs with fault injection: `throw` after the history replay; `stall`: hold
   * the first wave's baton for STALL_MS, as a Worker descheduled for that long would.
   */
  fault: 'throw' | 'stall' | null;
  /** `poll=1`: the history, then the stream ends (reason `done`) instead of following the room. */
  poll?: boolean;
}

/** Shared memory every Worker gets once, when it is spawned. */
export interface WorkerInit {
  log: SharedArrayBuffer;
  logSizes: LogSizes;
  rooms: SharedArrayBuffer;
  control: SharedArrayBuffer;
  /** How threads block on the room words: every thread that shares a word uses the same kind. */
  wait: WaitKind;
}

export type MainToWorker =
  | { type: 'init'; init: WorkerInit }
  | { type: 'open'; out: SharedArrayBuffer; options: StreamOptions; page: HistoryPage }
  | { type: 'page'; page: HistoryPage }
  /** End the stream and come back to the pool (the Worker answers `released`). */
  | { type: 'close' };

export type WorkerToMain =
  /** The Worker took its `init`: it is loaded and can serve streams. */
  | { type: 'ready' }
  /** Replay needs the messages after `after` (null: the recent history). */
  | { type: 'more'; after: string | null }
  /** The Worker stops its stream: it fell too far behind (slow) or failed. */
  | { type: 'ended'; reason: EndReason; detail?: string }
  /** The stream is over and the Worker is free for another. */
  | { type: 'released' };
