import type { Context } from 'hono';
import type { AppEnv } from './app-env.ts';
import type { Config } from '../lib/config.ts';
import { limitKey } from '../lib/ip-address.ts';
import { createRateLimiter } from '../lib/rate-limit.ts';

/** The address failed sign-ins are counted against: the client's (an IPv6 one by its /64), behind a trusted proxy too. */
export const signInAddress = (c: Context<AppEnv>) => limitKey(c.get('client').address);

/** Failed sign-ins allowed per address: 10 at once, then 5 a minute. */
export const SIGN_IN_LIMIT = { perSecond: 5 / 60, burst: 10 };
/** Per account, from addresses it was never signed in from: 20 at once, then 10 a minute (a botnet's many addresses). */
const ACCOUNT_LIMIT = { perSecond: 10 / 60, burst: 20 };
/** How long an address a subject signed in from stays trusted for it. */
const TRUST_MS = 30 * 24 * 3600 * 1000;
const MAX_TRUSTED = 100_000;

export type SignInLimit = ReturnType<typeof createSignInLimit>;

/** Past its bucket, a trusted place may still try once a second: its tries wait their turn, up to this long. */
const THROTTLE_STEP_MS = 1000;
const THROTTLE_MAX_WAIT_MS = 30_000;

/**
 * Wrong credentials (OWASP Authentication cheat sheet: throttling without a lockout anyone can cause). Tries are
 * limited per address, per account, and per account and address. An address a subject signed in from before is
 * trusted for that subject: there, past its (subject, address) bucket, tries are not refused but slowed to one a
 * second, so a right credential from a place it was used before always gets through (one guesser behind a NAT
 * cannot lock out the others there), and guessing from there stays slow. Elsewhere, past the buckets, tries are
 * refused with 429. Subjects: `user:NAME` (a password), `token` (the shared token: everyone's, so it has no
 * account bucket). Bounded: the limiters and maps forget the least recently used keys.
 */
export function createSignInLimit(_config: Config, limit: { perSecond: number; burst: number; maxKeys?: number } = SIGN_IN_LIMIT) {
  const perAddress = createRateLimiter(limit);
  const perAccount = createRateLimiter({ ...ACCOUNT_LIMIT, maxKeys: limit.maxKeys });
  const perPair = createRateLimiter(limit);
  const trusted = createExpiringSet(); // `subject address` pairs that signed in
  const trustedAddresses = createExpiringSet(); // addresses anyone signed in from
  const nextTurn = new Map<string, number>(); // a throttled pair: when its next try may run
  const reason = (wait: number) => `too many failed sign-ins; retry in ${wait} s`;
  const pairOf = (c: Context<AppEnv>, subject: string) => `${subject} ${signInAddress(c)}`;

  return {
    reason,
    /**
     * Resolves once this try at `subject`'s credential may be checked (0), or with the seconds to wait when it is
     * refused. A trusted place past its bucket waits its turn here (one try a second).
     */
    async admit(c: Context<AppEnv>, subject: string): Promise<number> {
      const pair = pairOf(c, subject);
      if (!trusted.has(pair)) return Math.max(perPair.peek(pair), perAddress.peek(signInAddress(c)), subject === 'token' ? 0 : perAccount.peek(subject));
      if (!perPair.peek(pair)) return 0;
      const now = Date.now();
      const at = Math.max(now, nextTurn.get(pair) ?? 0);
      if (at - now > THROTTLE_MAX_WAIT_MS) return Math.ceil((at - now) / 1000);
      nextTurn.delete(pair);
      nextTurn.set(pair, at + THROTTLE_STEP_MS);
      if (nextTurn.size > MAX_TRUSTED) nextTurn.delete(nextTurn.keys().next().value!);
      if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
      return 0;
    },
    /**
     * Before a sign-in's body is read: the address's wait, unless someone signed in from it before (then the
     * subject's own limits apply once the body names it).
     */
    waitAtTheDoor: (c: Context<AppEnv>) => (trustedAddresses.has(signInAddress(c)) ? 0 : perAddress.peek(signInAddress(c))),
    /** Counts a wrong credential for `subject` from this request's address. */
    failed(c: Context<AppEnv>, subject: string) {
      const pair = pairOf(c, subject);
      perPair.take(pair);
      if (trusted.has(pair)) return;
      perAddress.take(signInAddress(c));
      if (subject !== 'token') perAccount.take(subject);
    },
    /** A right credential: the address is trusted for the subject from now on (for TRUST_MS). */
    succeeded(c: Context<AppEnv>, subject: string) {
      trusted.add(pairOf(c, subject));
      trustedAddresses.add(signInAddress(c));
    },
  };
}

/** Keys remembered for TRUST_MS, the least recently added forgotten past MAX_TRUSTED. */
function createExpiringSet() {
  const until = new Map<string, number>();
  return {
    has: (key: string) => (until.get(key) ?? 0) > Date.now(),
    add(key: string) {
      until.delete(key);
      until.set(key, Date.now() + TRUST_MS);
      if (until.size > MAX_TRUSTED) until.delete(until.keys().next().value!);
    },
  };
}
