import { createHash, timingSafeEqual } from 'node:crypto';
import { getCookie } from 'hono/cookie';
import type { Context } from 'hono';

export const TOKEN_COOKIE = 'chat_token';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares in constant time: both sides are hashed to the same length first, so length leaks nothing either. */
export function createTokenCheck(token: string) {
  const expected = digest(token);
  return (candidate: string | undefined | null) => candidate != null && timingSafeEqual(digest(candidate), expected);
}

/** The token a request carries: `Authorization: Bearer …`, or the cookie the login page sets. */
export function presentedToken(c: Context): string | undefined {
  const header = c.req.header('authorization');
  if (header?.toLowerCase().startsWith('bearer ')) return header.slice(7).trim();
  return getCookie(c, TOKEN_COOKIE);
}
