import { Hono, type Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from '../middleware/app-env.ts';
import { createTokenCheck, SESSION_COOKIE, sessionCookieOptions, sessionValue } from '../lib/auth.ts';
import { createRateLimiter } from '../lib/rate-limit.ts';
import { LoginPage, type LoginProblem } from '../views/login.tsx';

/** Only local paths: `next` must not send a signed-in browser to another site. */
const safeNext = (next: unknown) => (typeof next === 'string' && /^\/(?!\/)[\w\-/.?=&%]*$/.test(next) ? next : '/');

/**
 * Whether the request came over https, which decides the cookie's `Secure`. The one place that decides it: for
 * now the URL the server saw; a trusted proxy's `X-Forwarded-Proto` belongs here.
 */
export const requestIsHttps = (c: Context<AppEnv>) => new URL(c.req.url).protocol === 'https:';

/** The address failed sign-ins are counted against: the one place to swap in a proxy-aware address. */
export const signInAddress = (c: Context<AppEnv>) => c.get('deps').runtime.address(c.req.raw, c.env);

/** Failed sign-ins allowed per address: 10 at once, then 5 a minute. */
export const SIGN_IN_LIMIT = { perSecond: 5 / 60, burst: 10 };

const wantsHtml = (c: Context<AppEnv>) => c.req.header('accept')?.includes('text/html') ?? false;
const page = (c: Context<AppEnv>, next: string, problem: LoginProblem, status: 200 | 401 | 429) =>
  c.html('<!DOCTYPE html>' + String(LoginPage({ next, problem })), status);

/**
 * Sign-in for --token mode: the page posts the token once and gets back an HttpOnly cookie holding a value
 * derived from it (lib/auth.ts), never the token. Failed attempts are limited per address (bounded: the limiter
 * forgets the least recently used addresses); while an address is limited even a right token gets 429, so
 * the limit cannot be used to go on guessing. One instance per app.
 */
export function createLogin(limit: { perSecond: number; burst: number; maxKeys?: number } = SIGN_IN_LIMIT) {
  const failures = createRateLimiter(limit);
  return new Hono<AppEnv>()
    .get('/login', (c) => page(c, safeNext(c.req.query('next')), null, 200))
    .post('/login', async (c) => {
      const { config } = c.get('deps');
      const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
      const next = safeNext(form.next);
      if (!config.token) return c.redirect(next, 303);
      const address = `sign-in:${signInAddress(c)}`;
      const wait = failures.peek(address);
      if (wait) {
        c.header('Retry-After', String(wait));
        const reason = `too many failed sign-ins from your address; retry in ${wait} s`;
        return wantsHtml(c) ? page(c, next, { limited: wait }, 429) : c.json({ error: reason }, 429);
      }
      const token = typeof form.token === 'string' ? form.token : '';
      if (!createTokenCheck(config.token)(token)) {
        failures.take(address);
        return wantsHtml(c) ? page(c, next, 'wrong', 401) : c.json({ error: 'that token is not right' }, 401);
      }
      setCookie(c, SESSION_COOKIE, sessionValue(config.token), sessionCookieOptions(requestIsHttps(c)));
      return c.redirect(next, 303);
    })
    /** Clears the cookie: a form post goes back to the sign-in page, another client gets 204. */
    .post('/logout', (c) => {
      deleteCookie(c, SESSION_COOKIE, sessionCookieOptions(requestIsHttps(c), 0));
      return wantsHtml(c) ? c.redirect('/login', 303) : c.body(null, 204);
    });
}
