/**
 * A status snapshot (fanout/status-sampler.ts takes one a second while someone watches GET /status): what it
 * holds, and how its numbers read.
 */

/** Fan-out latency in one second of the last minute. */
export interface LatencyPoint {
  /** Seconds before the snapshot (0: its own second). */
  ago: number;
  /** Latencies observed that second. */
  count: number;
  /** Milliseconds; null when none was observed. */
  p50: number | null;
  p99: number | null;
}

export interface StatusSnapshot {
  /** Snapshots this server has taken, this one included. */
  snapshot: number;
  /** Milliseconds since the epoch. */
  at: number;
  /** Client streams open (status streams not counted); streams of any kind still waiting for their Worker; status streams. */
  streams: { open: number; connecting: number; status: number };
  /** Client streams per room, most first (at most MAX_ROOMS; `moreRooms` says how many were left out). */
  rooms: { room: string; streams: number }[];
  moreRooms: number;
  /** Worker threads: serving a stream (status streams too), idle in the pool, starting, on their way back, alive. */
  workers: { serving: number; idle: number; starting: number; returning: number; threads: number };
  /** Per second since the previous snapshot; null in the first snapshot after nobody watched. */
  rates: { messages: number; deliveries: number; wakes: number } | null;
  /** Fan-out latency over the last minute (ms), and per second, oldest first. */
  latency: { p50: number | null; p99: number | null; count: number; points: LatencyPoint[] };
  /** RSS now, RSS before the first Worker started, and the difference per Worker thread alive (bytes). */
  memory: { rss: number; baseline: number; perThread: number | null };
  /** Client streams holding the most bytes for their client (ring + response queue), most first. */
  slowest: { room: string; who: string; buffered: number }[];
}

/** Rooms a snapshot lists; the rest are counted in `moreRooms` (a frame must fit a Worker's 64 KiB ring). */
export const MAX_ROOMS = 20;
/** Streams a snapshot lists as the slowest. */
export const MAX_SLOWEST = 5;

/** hh:mm:ss in the server's time zone. */
export const clock = (ms: number) => new Date(ms).toTimeString().slice(0, 8);
const round = (n: number) => (n >= 100 ? Math.round(n) : Math.round(n * 10) / 10);
export const formatMs = (ms: number | null) => (ms === null ? '–' : ms >= 10 ? `${Math.round(ms)} ms` : `${ms.toFixed(ms >= 1 ? 1 : 2)} ms`);
export const formatBytes = (b: number) =>
  b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${Math.round(b)} B`;
export const formatRate = (n: number | undefined) => (n === undefined ? '–' : String(round(n)));
