import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { getCookie } from 'hono/cookie';
import type { Context } from 'hono';
import type { CookieOptions } from 'hono/utils/cookie';

/** The sign-in cookie. It carries a value derived from the token (`sessionValue`), never the token itself. */
export const SESSION_COOKIE = 'chat_session';

/**
 * What the cookie's value is derived from with the token as the HMAC key: a fixed label, the same in every
 * process, so every instance with the same token accepts the same cookie (several may run behind one proxy).
 * Changing the token changes the value, which signs every browser out.
 */
const SESSION_LABEL = 'threadchat sign-in cookie v1';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares in constant time: both sides are hashed to the same length first, so length leaks nothing either. */
export function createTokenCheck(token: string) {
  const expected = digest(token);
  return (candidate: string | undefined | null) => candidate != null && timingSafeEqual(digest(candidate), expected);
}

/** The sign-in cookie's value for `token`: HMAC-SHA256(token, label), base64url. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update(SESSION_LABEL).digest('base64url');
}

/** The cookie's attributes; `secure` when the request came over https, directly or per a trusted proxy (middleware/client-address.ts). */
export function sessionCookieOptions(secure: boolean, maxAge = 30 * 24 * 3600): CookieOptions {
  return { httpOnly: true, sameSite: 'Strict', path: '/', secure, maxAge };
}

/** The token of an `Authorization: Bearer …` header, if the request has one. */
export function bearerToken(c: Context): string | undefined {
  const header = c.req.header('authorization');
  return header?.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : undefined;
}

/**
 * Whether a request is signed in: `Authorization: Bearer <token>` (curl, bin/chat), or else the sign-in cookie
 * holding `sessionValue(token)`. Both compared in constant time.
 */
export function createRequestCheck(token: string) {
  const tokenOk = createTokenCheck(token);
  const cookieOk = createTokenCheck(sessionValue(token));
  return (c: Context) => {
    const bearer = bearerToken(c);
    return bearer !== undefined ? tokenOk(bearer) : cookieOk(getCookie(c, SESSION_COOKIE));
  };
}
