import type { Counter, Histogram } from '../lib/metrics.ts';
import type { createRingReader } from './shm/out-ring.ts';
import type { EndReason } from '../views/frames.ts';
import { createLatencyWindow, type LatencyWindow } from './latency-window.ts';

/** What the hub reports for /metrics, on the main thread; each call is a few numbers, no allocation. */
export interface FanoutMetrics {
  /** An event went into the shared log as entry `seq`. */
  appended(seq: number): void;
  /** A stream's ring was drained into its response (the response stream, which the server writes to the socket). */
  drained(ring: ReturnType<typeof createRingReader>): void;
  ended(reason: EndReason): void;
  /** A POST's answer waits for its room's streams to catch up (flow-control.ts). */
  held(): void;
  /** Events handed to streams so far (read by the status sampler for deliveries/s). */
  delivered(): number;
  /** The same fan-out latencies, per second over the last minute (the status page's chart). */
  readonly recent: LatencyWindow;
}

export const NO_FANOUT_METRICS: FanoutMetrics = {
  appended: () => {}, drained: () => {}, ended: () => {}, held: () => {}, delivered: () => 0, recent: createLatencyWindow(),
};

/** Append times of the last TIMED log entries; an entry older than that when drained is not timed. Power of two. */
const TIMED = 4096;

/**
 * Deliveries: SSE events the Workers put in their rings, counted when the main thread drains them. Fan-out
 * latency: from a log append to the drain that hands its frame to a stream's response, timed once per stream per
 * drain, for the newest live event in what was drained (a lower bound for the older ones in the same batch).
 */
export function createFanoutMetrics(sinks: { deliveries: Counter; latency: Histogram; ended: Record<EndReason, Counter>; held: Counter }): FanoutMetrics {
  const at = new Float64Array(TIMED);
  const seqs = new Int32Array(TIMED).fill(-1);
  const recent = createLatencyWindow();
  return {
    appended(seq) {
      at[seq & (TIMED - 1)] = performance.now();
      seqs[seq & (TIMED - 1)] = seq;
    },
    drained(ring) {
      const events = ring.takeEvents();
      if (events > 0) sinks.deliveries.inc(events);
      const seq = ring.takeLogSeq();
      if (seq >= 0 && seqs[seq & (TIMED - 1)] === seq) {
        const now = performance.now();
        const ms = now - at[seq & (TIMED - 1)]!;
        sinks.latency.observe(ms / 1000);
        recent.observe(ms, now);
      }
    },
    ended: (reason) => sinks.ended[reason].inc(),
    held: () => sinks.held.inc(),
    delivered: () => sinks.deliveries.value,
    recent,
  };
}
