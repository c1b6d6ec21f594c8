import { Hono } from 'hono';
import { setCookie } from 'hono/cookie';
import type { AppEnv } from '../middleware/app-env.ts';
import { createTokenCheck, TOKEN_COOKIE } from '../lib/auth.ts';
import { LoginPage } from '../views/login.tsx';

/** Only local paths: `next` must not send a signed-in browser to another site. */
const safeNext = (next: unknown) => (typeof next === 'string' && /^\/(?!\/)[\w\-/.?=&%]*$/.test(next) ? next : '/');

/** Sign-in for --token mode: the page posts the token once and gets it back as an HttpOnly cookie. */
export const login = new Hono<AppEnv>()
  .get('/login', (c) => c.html('<!DOCTYPE html>' + String(LoginPage({ next: safeNext(c.req.query('next')), failed: false }))))
  .post('/login', async (c) => {
    const { config } = c.get('deps');
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const next = safeNext(form.next);
    if (!config.token) return c.redirect(next, 303);
    const token = typeof form.token === 'string' ? form.token : '';
    if (!createTokenCheck(config.token)(token)) {
      return c.html('<!DOCTYPE html>' + String(LoginPage({ next, failed: true })), 401);
    }
    setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: 30 * 24 * 3600 });
    return c.redirect(next, 303);
  });
