import type { Counter } from '../lib/metrics.ts';
import { IdempotencyConflictError, type Store } from './types.ts';

export const STORE_OPS = ['append', 'since', 'before', 'recent'] as const;

/**
 * The same store, counting for /metrics: messages appended, and calls that failed (a backend away, a full disk).
 * Optional abilities (shared presence) pass through untouched.
 */
export function instrumentStore(store: Store, sinks: { appended: Counter; errors: Record<(typeof STORE_OPS)[number], Counter> }): Store {
  const counted = <A extends unknown[], T>(op: (typeof STORE_OPS)[number], call: (...args: A) => Promise<T>) =>
    async (...args: A): Promise<T> => {
      try {
        return await call(...args);
      } catch (error) {
        if (!(error instanceof IdempotencyConflictError)) sinks.errors[op].inc(); // the client's mistake, not the store's
        throw error;
      }
    };
  const append = counted('append', store.append);
  const appendOnce = counted('append', store.appendOnce);
  return {
    ...store,
    kind: store.kind,
    append: async (message) => {
      const saved = await append(message);
      sinks.appended.inc();
      return saved;
    },
    appendOnce: async (message, key) => {
      const result = await appendOnce(message, key);
      if (!result.replayed) sinks.appended.inc();
      return result;
    },
    since: counted('since', store.since),
    before: counted('before', store.before),
    recent: counted('recent', store.recent),
  };
}
