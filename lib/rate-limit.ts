/**
 * Token buckets keyed by client id or IP. Each key may spend `burst` at once and earns `perSecond` back. The map
 * is bounded: past `maxKeys`, the least recently used keys are forgotten (a forgotten key starts full, so the
 * bound errs on the side of letting a message through, never of blocking one wrongly).
 */
export interface RateLimiter {
  /** Spends one token; returns 0 when allowed, else the seconds to wait before one is available. */
  take(key: string): number;
  /** Seconds until `key` could spend, without spending (0 when it could now). */
  peek(key: string): number;
}

export function createRateLimiter(options: { perSecond: number; burst: number; maxKeys?: number }): RateLimiter {
  const { perSecond, burst } = options;
  const maxKeys = options.maxKeys ?? 100_000;
  const buckets = new Map<string, { tokens: number; at: number }>();

  const refill = (key: string) => {
    const now = performance.now();
    let bucket = buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
      bucket.at = now;
      buckets.delete(key); // re-inserted below: Map order is recency order
    } else {
      bucket = { tokens: burst, at: now };
      if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value!);
    }
    buckets.set(key, bucket);
    return bucket;
  };
  const wait = (tokens: number) => Math.max(1, Math.ceil((1 - tokens) / perSecond));

  return {
    take(key) {
      if (perSecond <= 0) return 0;
      const bucket = refill(key);
      if (bucket.tokens < 1) return wait(bucket.tokens);
      bucket.tokens -= 1;
      return 0;
    },
    peek(key) {
      if (perSecond <= 0) return 0;
      const bucket = refill(key);
      return bucket.tokens < 1 ? wait(bucket.tokens) : 0;
    },
  };
}
