import type { Logger } from '../lib/logger.ts';

/**
 * An outage logged as one warning a minute per kind of failure, not one per request: a full disk refuses every
 * post, and a line (with a stack trace) per post buried everything else in the log, on the very disk that was
 * full. The next warning of a kind says how many it held back (`suppressed`). The first success after a warning
 * says, once, that it works again; only after a warning, so a disk on the edge, failing and passing by turns, is
 * not a line a post either.
 */
export function createOutageLog(logger: Logger | undefined, everyMs = 60_000, now: () => number = Date.now) {
  const lastWarned = new Map<string, number>();
  const held = new Map<string, number>();
  let since = 0; // the first failure since the last "works again"; 0 when none
  let failures = 0;
  let warned = false; // a warning went out since the last "works again"
  return {
    failed(kind: string, msg: string, fields: Record<string, unknown>) {
      failures++;
      const at = now();
      if (!since) since = at;
      const last = lastWarned.get(kind);
      if (last !== undefined && at - last < everyMs) {
        held.set(kind, (held.get(kind) ?? 0) + 1);
        return;
      }
      const suppressed = held.get(kind) ?? 0;
      logger?.warn(msg, suppressed ? { ...fields, suppressed } : fields);
      lastWarned.set(kind, at);
      held.delete(kind);
      warned = true;
    },
    /** A success; cheap when nothing failed, as it runs on every one. */
    succeeded(msg: string, fields: Record<string, unknown> = {}) {
      if (!since) return;
      if (warned) logger?.info(msg, { ...fields, downMs: now() - since, failures });
      since = 0;
      failures = 0;
      warned = false;
    },
  };
}
