import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from '../middleware/app-env.ts';
import type { JwtCheck } from '../lib/jwt.ts';
import type { Sessions } from '../middleware/sessions.ts';
import type { SignInLimit } from '../middleware/sign-in-limit.ts';
import { readBodyFields } from '../middleware/message-body.ts';
import { createTokenCheck, sharedTokenSubject } from '../lib/auth.ts';
import { everywhere } from '../lib/identity.ts';
import { verifyPassword } from '../lib/passwords.ts';
import { LoginPage, type LoginMode, type LoginProblem } from '../views/login.tsx';
import { csp } from './page.ts';

/** Only local paths: `next` must not send a signed-in browser to another site. */
const safeNext = (next: unknown) => (typeof next === 'string' && /^\/(?!\/)[\w\-/.?=&%]*$/.test(next) ? next : '/');
const wantsHtml = (c: Context<AppEnv>) => c.req.header('accept')?.includes('text/html') ?? false;
/** A sign-in form is a few fields: nothing bigger is read (a body of 100 MiB cost the server 250 MB each). */
const LOGIN_BODY_BYTES = 4096;

export interface LoginOptions {
  signIn: SignInLimit;
  sessions: Sessions | undefined;
  jwt?: JwtCheck;
}

/**
 * Sign-in and sign-out for the browser, in every mode with a sign-in: the shared token (token), a name and a
 * password (accounts), or a JWT exchanged for a session (jwt). Each success starts a new server-side session
 * (middleware/sessions.ts); wrong tries are limited per address and per account (middleware/sign-in-limit.ts), the
 * address checked before the body is read, and the body is at most 4 KiB under the body timeout.
 */
export function createLogin({ signIn, sessions, jwt }: LoginOptions) {
  const show = (c: Context<AppEnv>, next: string, problem: LoginProblem, status: 200 | 401 | 429, user = '') =>
    c.html('<!DOCTYPE html>' + String(LoginPage({ next, problem, mode: c.get('deps').config.auth as LoginMode, user: user.slice(0, 64) })), status);
  const limited = (c: Context<AppEnv>, next: string, wait: number) => {
    c.header('Retry-After', String(wait));
    return wantsHtml(c) ? show(c, next, { limited: wait }, 429) : c.json({ error: signIn.reason(wait) }, 429);
  };
  const wrong = (c: Context<AppEnv>, next: string, problem: Extract<LoginProblem, string>, reason: string, user = '') =>
    wantsHtml(c) ? show(c, next, problem, 401, user) : c.json({ error: reason }, 401);

  return new Hono<AppEnv>()
    .use('/login', csp)
    .get('/login', (c) => (c.get('deps').config.auth === 'open' ? c.redirect('/', 303) : show(c, safeNext(c.req.query('next')), null, 200)))
    .post(
      '/login',
      async (c, next) => {
        const wait = signIn.waitAtTheDoor(c); // before a byte of the body is read
        return wait ? limited(c, '/', wait) : next();
      },
      bodyLimit({ maxSize: LOGIN_BODY_BYTES, onError: (c) => c.json({ error: `a sign-in is at most ${LOGIN_BODY_BYTES} bytes` }, 413) }),
      async (c) => {
        const { config } = c.get('deps');
        const form = await readBodyFields(c.req.raw, null, config['body-timeout']);
        const field = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');
        const next = safeNext(form.next);
        if (config.auth === 'open' || !sessions) return c.redirect(next, 303);
        if (config.auth === 'token') {
          const wait = await signIn.admit(c, 'token');
          if (wait) return limited(c, next, wait);
          if (!createTokenCheck(config.token)(field('token'))) {
            signIn.failed(c, 'token');
            return wrong(c, next, 'wrong', 'that token is not right');
          }
          signIn.succeeded(c, 'token');
          await sessions.start(c, { subject: await sharedTokenSubject(config.token), name: null, admin: true, rules: everywhere('read-write') });
        } else if (config.auth === 'accounts') {
          const name = field('user').trim();
          const wait = await signIn.admit(c, `user:${name}`);
          if (wait) return limited(c, next, wait);
          const account = name ? await c.get('deps').identity!.getAccount(name) : null;
          if (!(await verifyPassword(field('password'), account?.passwordHash ?? null)) || !account) {
            signIn.failed(c, `user:${name}`);
            return wrong(c, next, 'wrong-password', 'that name and password are not right', name);
          }
          signIn.succeeded(c, `user:${name}`);
          await sessions.start(c, { subject: `user:${account.name}`, name: account.name, admin: account.admin, rules: null });
        } else {
          // A JWT is a bearer credential of its own: nothing to guess, so no lockout; it is exchanged for a session
          // that ends when the token would have.
          const verified = await jwt!.verify(field('jwt').trim()).catch(() => null);
          if (!verified) return wrong(c, next, 'wrong-jwt', 'that JWT is not accepted');
          const { who, expires } = verified;
          await sessions.start(c, { subject: who.id, name: who.name, admin: who.admin, rules: who.rules }, expires);
        }
        return c.redirect(next, 303);
      },
    )
    /** Ends the session on every instance and clears the cookie: a form goes back to the sign-in page, another client gets 204. */
    .post('/logout', async (c) => {
      await sessions?.end(c);
      return wantsHtml(c) ? c.redirect('/login', 303) : c.body(null, 204);
    });
}
