import { Hono, type Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from '../middleware/app-env.ts';
import { createTokenCheck, SESSION_COOKIE, sessionCookieOptions, sessionValue } from '../lib/auth.ts';
import type { SignInLimit } from '../middleware/sign-in-limit.ts';
import { LoginPage, type LoginProblem } from '../views/login.tsx';

/** Only local paths: `next` must not send a signed-in browser to another site. */
const safeNext = (next: unknown) => (typeof next === 'string' && /^\/(?!\/)[\w\-/.?=&%]*$/.test(next) ? next : '/');

/**
 * Whether the request came over https, which decides the cookie's `Secure`. The one place that decides it: for
 * now the URL the server saw; a trusted proxy's `X-Forwarded-Proto` belongs here.
 */
const wantsHtml = (c: Context<AppEnv>) => c.req.header('accept')?.includes('text/html') ?? false;
const page = (c: Context<AppEnv>, next: string, problem: LoginProblem, status: 200 | 401 | 429) =>
  c.html('<!DOCTYPE html>' + String(LoginPage({ next, problem })), status);

/**
 * Sign-in for --token mode: the page posts the token once and gets back an HttpOnly cookie holding a value
 * derived from it (lib/auth.ts), never the token. Wrong tokens count against the address (`signIn`, shared with
 * the Bearer header: middleware/sign-in-limit.ts); while it is limited even the right token gets 429.
 */
export function createLogin(signIn: SignInLimit) {
  return new Hono<AppEnv>()
    .get('/login', (c) => page(c, safeNext(c.req.query('next')), null, 200))
    .post('/login', async (c) => {
      const { config } = c.get('deps');
      const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
      const next = safeNext(form.next);
      if (!config.token) return c.redirect(next, 303);
      const wait = signIn.wait(c);
      if (wait) {
        c.header('Retry-After', String(wait));
        return wantsHtml(c) ? page(c, next, { limited: wait }, 429) : c.json({ error: signIn.reason(wait) }, 429);
      }
      const token = typeof form.token === 'string' ? form.token : '';
      if (!createTokenCheck(config.token)(token)) {
        signIn.failed(c);
        return wantsHtml(c) ? page(c, next, 'wrong', 401) : c.json({ error: 'that token is not right' }, 401);
      }
      setCookie(c, SESSION_COOKIE, sessionValue(config.token), sessionCookieOptions(c.get('client').https));
      return c.redirect(next, 303);
    })
    /** Clears the cookie: a form post goes back to the sign-in page, another client gets 204. */
    .post('/logout', (c) => {
      deleteCookie(c, SESSION_COOKIE, sessionCookieOptions(c.get('client').https, 0));
      return wantsHtml(c) ? c.redirect('/login', 303) : c.body(null, 204);
    });
}
