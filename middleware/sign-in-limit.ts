import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './app-env.ts';
import type { Config } from '../lib/config.ts';
import { bearerToken, createTokenCheck } from '../lib/auth.ts';
import { fail } from '../lib/errors.ts';
import { createRateLimiter } from '../lib/rate-limit.ts';

/** The address failed sign-ins are counted against: the client's, behind a trusted proxy too (middleware/client-address.ts). */
export const signInAddress = (c: Context<AppEnv>) => c.get('client').address;

/** Failed sign-ins allowed per address: 10 at once, then 5 a minute. */
export const SIGN_IN_LIMIT = { perSecond: 5 / 60, burst: 10 };

export type SignInLimit = ReturnType<typeof createSignInLimit>;

/**
 * Wrong tokens, counted per address: a wrong token on the sign-in form (routes/login.ts) or in a Bearer header.
 * While an address is limited every try from it is refused, the right token too, so the limit cannot be used to
 * go on guessing. Bounded: the limiter forgets the least recently used addresses. One per app.
 */
export function createSignInLimit(config: Config, limit: { perSecond: number; burst: number; maxKeys?: number } = SIGN_IN_LIMIT) {
  const failures = createRateLimiter(limit);
  const tokenOk = config.token ? createTokenCheck(config.token) : null;
  const key = (c: Context<AppEnv>) => `sign-in:${signInAddress(c)}`;
  const reason = (wait: number) => `too many failed sign-ins from your address; retry in ${wait} s`;
  return {
    /** Seconds this request's address must wait before it may try a token again (0: it may now). */
    wait: (c: Context<AppEnv>) => failures.peek(key(c)),
    /** Counts a wrong token against this request's address. */
    failed: (c: Context<AppEnv>) => void failures.take(key(c)),
    reason,
    /** A Bearer header from a limited address gets 429; a wrong one is counted (the token guard answers 401). */
    bearer: createMiddleware<AppEnv>(async (c, next) => {
      const presented = tokenOk ? bearerToken(c) : undefined;
      if (presented === undefined) return next();
      const wait = failures.peek(key(c));
      if (wait) fail(429, reason(wait), { 'Retry-After': String(wait) });
      if (!tokenOk!(presented)) failures.take(key(c));
      return next();
    }),
  };
}
