/**
 * Identity is decided once, at the door: a Bearer token (the shared token, an access token, a JWT), Basic
 * credentials or a session cookie become one `who` on the request (lib/identity.ts), which every route, the hub and
 * presence read. A credential that is presented and wrong is a 401 here; no credential is the anonymous `who`, whose
 * rights the mode gives (open: everything; token: nothing; accounts and jwt: --default-access).
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './app-env.ts';
import type { Sessions } from './sessions.ts';
import type { SignInLimit } from './sign-in-limit.ts';
import { createTokenCheck, sharedTokenSubject } from '../lib/auth.ts';
import type { Config } from '../lib/config.ts';
import { fail } from '../lib/errors.ts';
import { everywhere, type AccessRules, type Who } from '../lib/identity.ts';
import { limitKey } from '../lib/ip-address.ts';
import type { JwtCheck } from '../lib/jwt.ts';
import { verifyPassword } from '../lib/passwords.ts';
import { digestOf } from '../lib/secrets.ts';
import type { IdentityStore } from '../store/identity-types.ts';

export interface IdentifyOptions {
  config: Config;
  identity: IdentityStore | undefined;
  sessions: Sessions | undefined;
  limit: SignInLimit;
  jwt?: JwtCheck;
}

/** Requests that never look at credentials: a Bearer header there is neither checked nor counted (nor refused). */
const isOpenPath = (method: string, path: string) => path === '/healthz' || path.startsWith('/static/') || (method === 'GET' && path === '/login');

const CHALLENGE = { token: 'Bearer realm="threadchat"', accounts: 'Basic realm="threadchat", charset="UTF-8", Bearer realm="threadchat"', jwt: 'Bearer realm="threadchat"' };

export function createIdentify({ config, identity, sessions, limit, jwt }: IdentifyOptions) {
  const mode = config.auth;
  const tokenOk = mode === 'token' ? createTokenCheck(config.token) : null;
  const anonymousRules: AccessRules = mode === 'open' ? everywhere('read-write') : mode === 'token' ? {} : everywhere(config['default-access']);
  const anonymous = (c: Context<AppEnv>): Who => ({
    id: `anon:${limitKey(c.get('client').address)}`,
    name: null,
    via: 'anonymous',
    admin: false,
    rules: anonymousRules,
    session: null,
  });
  const refuse = (reason: string): never =>
    fail(401, reason, { 'WWW-Authenticate': CHALLENGE[mode as keyof typeof CHALLENGE] ?? CHALLENGE.token });
  const tooMany = (wait: number): never => fail(429, limit.reason(wait), { 'Retry-After': String(wait) });

  /** An account's `who`, or null when the account is gone. */
  const accountWho = async (name: string, via: Who['via'], session: string | null): Promise<Who | null> => {
    const account = await identity!.getAccount(name);
    return account ? { id: `user:${account.name}`, name: account.name, via, admin: account.admin, rules: account.access, session } : null;
  };

  const fromBearer = async (c: Context<AppEnv>, token: string): Promise<Who> => {
    if (mode === 'token') {
      // The shared token may be a phrase people chose: wrong tries count against the address (sign-in-limit.ts).
      const wait = await limit.admit(c, 'token');
      if (wait) tooMany(wait);
      if (!tokenOk!(token)) {
        limit.failed(c, 'token');
        refuse('that token is not right: send "Authorization: Bearer <the server\'s token>"');
      }
      limit.succeeded(c, 'token');
      return { id: 'token', name: null, via: 'token', admin: true, rules: everywhere('read-write'), session: null };
    }
    if (mode === 'accounts') {
      // Access tokens are 256 random bits: nothing to slow down, no lockout to suffer.
      const found = token.startsWith('tc_') && token.length < 100 ? await identity!.findAccessToken(digestOf(token)) : null;
      const who = found && (await accountWho(found.name, 'access-token', null));
      if (who) return { ...who, until: found.expires };
      return refuse('that access token is not valid (revoked, expired, or never issued): make one with "bun run user token NAME"');
    }
    if (mode === 'jwt') {
      try {
        const { who, expires } = await jwt!.verify(token);
        return { ...who, until: expires };
      } catch (error) {
        return refuse(`that JWT is not accepted: ${(error as Error).message}`);
      }
    }
    return anonymous(c); // open mode takes no credentials: a Bearer header changes nothing
  };

  const fromBasic = async (c: Context<AppEnv>, encoded: string): Promise<Who> => {
    if (mode !== 'accounts') refuse('this server takes no user name and password: send its token as "Authorization: Bearer ..."');
    let decoded = '';
    try {
      decoded = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(atob(encoded), (ch) => ch.charCodeAt(0)));
    } catch {
      refuse('the Basic credentials are not base64 of "name:password"');
    }
    const colon = decoded.indexOf(':');
    const name = decoded.slice(0, Math.max(0, colon));
    const password = decoded.slice(colon + 1);
    if (colon < 1 || name.length > 64 || password.length > 1024) refuse('the Basic credentials are not "name:password"');
    const wait = await limit.admit(c, `user:${name}`);
    if (wait) tooMany(wait);
    const account = await identity!.getAccount(name);
    if (!(await verifyPassword(password, account?.passwordHash ?? null))) {
      limit.failed(c, `user:${name}`);
      refuse('that name and password are not right');
    }
    limit.succeeded(c, `user:${name}`);
    return (await accountWho(name, 'password', null)) ?? refuse('that account was just removed');
  };

  const fromSession = async (c: Context<AppEnv>): Promise<Who | null> => {
    const found = sessions ? await sessions.read(c) : null;
    if (!found) return null;
    const { digest, session } = found;
    if (session.subject.startsWith('token:')) {
      // Signed in with the shared token: with this one, or the session is of a token since changed.
      if (mode !== 'token' || session.subject !== (await sharedTokenSubject(config.token))) return null;
      return { id: 'token', name: null, via: 'session', admin: true, rules: everywhere('read-write'), session: digest, until: session.expires };
    }
    // A JWT's session carries its claims; a session of another mode (the server restarted in this one) is none.
    if (session.subject.startsWith('jwt:')) {
      return mode === 'jwt' && session.rules ? { id: session.subject, name: session.name, via: 'session', admin: session.admin, rules: session.rules, session: digest, until: session.expires } : null;
    }
    // An account's session: its rights are read from the account each time, so `user access` reaches it at once.
    const who = mode === 'accounts' && session.subject.startsWith('user:') ? await accountWho(session.subject.slice(5), 'session', digest) : null;
    return who && { ...who, until: session.expires };
  };

  /** The request's identity into `c.get('who')`. */
  return createMiddleware<AppEnv>(async (c, next) => {
    if (mode === 'open' || isOpenPath(c.req.method, c.req.path)) {
      c.set('who', anonymous(c));
      return next();
    }
    const header = c.req.header('authorization');
    const [scheme, value] = header ? [header.slice(0, header.indexOf(' ')).toLowerCase(), header.slice(header.indexOf(' ') + 1).trim()] : ['', ''];
    let who: Who | null = null;
    if (scheme === 'bearer' && value) who = await fromBearer(c, value);
    else if (scheme === 'basic' && value) who = await fromBasic(c, value);
    else if (header) refuse('the Authorization header must be "Bearer <token>"' + (mode === 'accounts' ? ' or "Basic <base64 of name:password>"' : ''));
    c.set('who', who ?? (await fromSession(c)) ?? anonymous(c));
    return next();
  });
}
