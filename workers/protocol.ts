/**
 * Everything the main thread and the per-connection Workers share: message types and shared-memory layouts.
 *
 * Three shared regions:
 * - the event log (one per server): the main thread appends each event once; every Worker reads it.
 * - the control block (one per server): a doorbell the main thread waits on, and one "ready" flag per Worker slot.
 * - the output ring (one per Worker): the Worker writes SSE frames; the main thread drains them to the socket.
 *
 * Memory model: plain reads and writes of payload bytes are ordered by the Atomics operation that publishes them
 * (a writer fills bytes, then Atomics.store's the position; a reader Atomics.load's the position, then reads).
 */
import type { ChatEvent, ChatMessage } from '../store/types.ts';

// ---- Event log: a byte ring of variable-length entries plus an index ring addressed by sequence number ----

/** Int32 slots of the log header. */
export const LOG_SEQ = 0; // main writes: sequence number of the next entry (entries < LOG_SEQ are published). Workers wait on it.
export const LOG_OLDEST = 1; // main writes before overwriting bytes: the oldest entry whose bytes are still intact.
export const LOG_HEADER_INTS = 4;
/** Index slots: [seq, byteOffset, byteLength] per entry, slot = seq % LOG_INDEX_SLOTS. Main writes, Workers read. */
export const LOG_INDEX_FIELDS = 3;

export interface LogSizes {
  /** Entries the index can hold before the oldest is forgotten. Power of two. */
  indexSlots: number;
  /** Bytes of entry payload the ring can hold before the oldest is overwritten. */
  dataBytes: number;
}
export const DEFAULT_LOG_SIZES: LogSizes = { indexSlots: 1 << 14, dataBytes: 1 << 24 };

// ---- Control block: Int32Array [doorbell, flag(slot 0), flag(slot 1), ...] ----

/** Worker adds 1 and notifies after raising its flag from 0 to 1; the main thread waits on it. */
export const CTL_DOORBELL = 0;
/** Flag of Worker slot s lives at CTL_FLAGS + s: Worker sets 1 when its ring has new bytes, main resets to 0 before draining. */
export const CTL_FLAGS = 1;

// ---- Output ring: Int32Array header, then data bytes. Positions are free-running uint32 (kept in Int32 slots). ----

export const OUT_WRITE = 0; // Worker writes: total bytes written (mod 2^32).
export const OUT_READ = 1; // main writes: total bytes drained (mod 2^32). The Worker waits on it when the ring is full.
export const OUT_HEADER_BYTES = 16;
/** Output ring payload size per Worker. Power of two; bounds what one slow client can hold in server memory. */
export const OUT_RING_BYTES = 1 << 16;

// ---- Messages ----

export type StreamFormat = 'json' | 'html' | 'text';

/** One page of history sent to a Worker; `fromSeq` is the log position to continue from once `more` is false. */
export interface HistoryPage {
  messages: ChatMessage[];
  more: boolean;
  fromSeq: number;
  /** The requested position was older than what the store retains: some messages are gone. */
  gap: boolean;
}

export interface StreamOptions {
  room: string;
  client: string | null;
  format: StreamFormat;
  /** Last id the client has seen; null means "start with recent history". */
  lastEventId: string | null;
  retryMs: number;
  heartbeatMs: number;
  /** A Worker whose ring stays full this long is a slow client and is dropped. */
  slowMs: number;
  /** Test hook: throw after the history replay (only when the server runs with fault injection). */
  fault: 'throw' | null;
}

export type MainToWorker =
  | { type: 'open'; slot: number; log: SharedArrayBuffer; logSizes: LogSizes; control: SharedArrayBuffer; out: SharedArrayBuffer; options: StreamOptions; page: HistoryPage }
  | { type: 'page'; page: HistoryPage }
  | { type: 'close' };

export type WorkerToMain =
  /** Replay needs the messages after `after` (null: the recent history). */
  | { type: 'more'; after: string | null }
  /** The Worker stops its stream: it fell too far behind (slow) or failed. */
  | { type: 'ended'; reason: EndReason; detail?: string };

export type EndReason = 'slow' | 'error' | 'shutdown' | 'closed';

/** The named SSE events besides plain chat messages (which carry no event name). */
export type NamedEvent = 'presence' | 'reset' | 'bye';

export type { ChatEvent };
