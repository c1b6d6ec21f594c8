/**
 * Fan-out latency over the last minute, one small histogram per second, for the status page (p50/p99 per second
 * and over the minute). No timer keeps it: an observation that lands in a new second clears that second's row
 * first, so the window costs nothing while no message flows, and a row whose second is past is left out when read.
 * Observing is integer work only: the bucket is found from the microseconds' leading bit (Math.clz32).
 */

export const WINDOW_SECONDS = 60;
/** Quarter-octave buckets of microseconds: bucket 4·o + s holds [(4 + s)·2^(o−2), (5 + s)·2^(o−2)) µs. */
const BUCKETS = 4 * 25; // up to 2^25 µs, about 33 s; slower ones go in the last bucket

/** The bucket of a latency in whole microseconds. */
export function bucketOf(us: number): number {
  if (us < 4) return us < 0 ? 0 : us;
  const octave = 31 - Math.clz32(us);
  return Math.min(BUCKETS - 1, 4 * octave + ((us >>> (octave - 2)) & 3));
}

/** The middle of a bucket, in milliseconds. */
export function bucketMs(bucket: number): number {
  if (bucket < 4) return bucket / 1000;
  const octave = bucket >> 2;
  const width = 2 ** (octave - 2);
  return ((4 + (bucket & 3)) * width + width / 2) / 1000;
}

export interface LatencyPoint {
  /** Seconds before now (0: the current second). */
  ago: number;
  /** Observations in that second. */
  count: number;
  /** Milliseconds (null when nothing was observed that second). */
  p50: number | null;
  p99: number | null;
}

export interface LatencyWindow {
  /** One latency of `ms`, observed at `now` (performance.now()). */
  observe(ms: number, now: number): void;
  /** The last WINDOW_SECONDS seconds, oldest first, and the percentiles over all of them. */
  read(now: number): { points: LatencyPoint[]; p50: number | null; p99: number | null; count: number };
}

/** The value below which `rank` of the observations in `counts` lie (rank from 0 to 1), in ms. */
function quantile(counts: Uint32Array | Float64Array, total: number, rank: number): number | null {
  if (total === 0) return null;
  const want = Math.max(1, Math.ceil(total * rank));
  let seen = 0;
  for (let b = 0; b < counts.length; b++) {
    seen += counts[b]!;
    if (seen >= want) return bucketMs(b);
  }
  return bucketMs(counts.length - 1);
}

export function createLatencyWindow(): LatencyWindow {
  const counts = new Uint32Array(WINDOW_SECONDS * BUCKETS);
  const second = new Float64Array(WINDOW_SECONDS).fill(-1); // the second each row holds
  const totals = new Uint32Array(WINDOW_SECONDS);

  return {
    observe(ms, now) {
      const s = Math.floor(now / 1000);
      const row = s % WINDOW_SECONDS;
      if (second[row] !== s) {
        counts.fill(0, row * BUCKETS, (row + 1) * BUCKETS);
        totals[row] = 0;
        second[row] = s;
      }
      counts[row * BUCKETS + bucketOf((ms * 1000) | 0)]!++;
      totals[row]!++;
    },
    read(now) {
      const s = Math.floor(now / 1000);
      const merged = new Float64Array(BUCKETS);
      const points: LatencyPoint[] = [];
      let count = 0;
      for (let ago = WINDOW_SECONDS - 1; ago >= 0; ago--) {
        const row = (s - ago) % WINDOW_SECONDS;
        if (s - ago < 0 || second[row] !== s - ago) {
          points.push({ ago, count: 0, p50: null, p99: null });
          continue;
        }
        const own = counts.subarray(row * BUCKETS, (row + 1) * BUCKETS);
        for (let b = 0; b < BUCKETS; b++) merged[b]! += own[b]!;
        const total = totals[row]!;
        count += total;
        points.push({ ago, count: total, p50: quantile(own, total, 0.5), p99: quantile(own, total, 0.99) });
      }
      return { points, p50: quantile(merged, count, 0.5), p99: quantile(merged, count, 0.99), count };
    },
  };
}
