/**
 * Token buckets keyed by client id or IP. Each key may spend `burst` at once and earns `perSecond` back. The map
 * is bounded: past `maxKeys`, the least recently used keys are forgotten (a forgotten key starts full, so the
 * bound errs on the side of letting a message through, never of blocking one wrongly).
 */
export interface RateLimiter {
  /** Spends `amount` tokens (default 1); returns 0 when allowed, else the seconds to wait before they are available. */
  take(key: string, amount?: number): number;
  /** Seconds until `key` could spend `amount` (default 1), without spending (0 when it could now). */
  peek(key: string, amount?: number): number;
  /**
   * Spends `amount` whatever the balance, which may go below zero: for a cost known only once the work is done
   * (a quota charged when a message is stored, after a peek). Requests that passed their peek at the same time
   * all pay; the debt is paid off by the refill before the key's next peek or take succeeds.
   */
  charge(key: string, amount: number): void;
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
  const wait = (tokens: number, amount: number) => Math.max(1, Math.ceil((amount - tokens) / perSecond));

  return {
    take(key, amount = 1) {
      if (perSecond <= 0) return 0;
      const bucket = refill(key);
      if (bucket.tokens < amount) return wait(bucket.tokens, amount);
      bucket.tokens -= amount;
      return 0;
    },
    peek(key, amount = 1) {
      if (perSecond <= 0) return 0;
      const bucket = refill(key);
      return bucket.tokens < amount ? wait(bucket.tokens, amount) : 0;
    },
    charge(key, amount) {
      if (perSecond <= 0) return;
      refill(key).tokens -= amount;
    },
  };
}
