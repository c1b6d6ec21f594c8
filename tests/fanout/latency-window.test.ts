/** The status page's latency window: buckets that hold what they say, seconds that roll over without a timer. */
import { describe, expect, it } from 'bun:test';
import { bucketMs, bucketOf, createLatencyWindow, WINDOW_SECONDS } from '../../fanout/latency-window.ts';

describe('latency window', () => {
  it('puts a latency in a bucket whose middle is within an eighth of it, and larger ones in later buckets', () => {
    let last = -1;
    for (let us = 1; us < 20_000_000; us = Math.ceil(us * 1.07)) {
      const b = bucketOf(us);
      expect(b).toBeGreaterThanOrEqual(last);
      last = b;
      expect(Math.abs(bucketMs(b) * 1000 - us) / us).toBeLessThanOrEqual(0.125);
    }
  });

  it('gives p50 and p99 per second and over the minute, and forgets seconds older than the window', () => {
    const w = createLatencyWindow();
    const t0 = 1_000_000; // ms, as performance.now() counts
    for (let i = 0; i < 99; i++) w.observe(1, t0 + i);
    w.observe(50, t0 + 500);
    const now = w.read(t0 + 2000);
    expect(now.points).toHaveLength(WINDOW_SECONDS);
    const second = now.points.find((p) => p.count > 0)!;
    expect(second).toMatchObject({ ago: 2, count: 100 });
    expect(second.p50!).toBeCloseTo(1, 0);
    expect(second.p99!).toBeCloseTo(1, 0); // the 99th of 100 is still a 1 ms one
    w.observe(50, t0 + 3000);
    w.observe(50, t0 + 3001);
    const later = w.read(t0 + 3500);
    expect(later.count).toBe(102);
    expect(later.p99! / 50).toBeGreaterThan(0.875);
    // A minute on, the old seconds are gone; an observation in a reused row clears it first.
    expect(w.read(t0 + 3000 + WINDOW_SECONDS * 1000).count).toBe(0);
    w.observe(2, t0 + WINDOW_SECONDS * 1000); // the row of t0's second, a minute later
    const reused = w.read(t0 + WINDOW_SECONDS * 1000);
    expect(reused.points.at(-1)).toMatchObject({ ago: 0, count: 1 });
    expect(reused.count).toBe(3); // that one and the two of t0 + 3 s: the hundred of t0's second are gone
  });
});
