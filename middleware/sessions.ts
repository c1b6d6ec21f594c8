/**
 * Browser sessions (OWASP Session Management): a random 256-bit id in an HttpOnly, SameSite=Strict cookie
 * (`__Host-` prefixed and Secure over https), kept server-side in the store by its digest, so every instance
 * shares it and a sign-out or a revocation ends it everywhere. A new id at every sign-in (no fixation), an idle
 * and an absolute end.
 */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { CookieOptions } from 'hono/utils/cookie';
import type { AppEnv } from './app-env.ts';
import { durationMs, type Config } from '../lib/config.ts';
import { digestOf, newSecret } from '../lib/secrets.ts';
import type { IdentityStore, Session } from '../store/identity-types.ts';

export const SESSION_COOKIE = 'chat_session';

/** A session's last use is written at most this often: a read per request, a write a minute at most. */
const TOUCH_EVERY_MS = 60_000;

/** What a new session is for (the store adds its times). */
export type SessionGrant = Pick<Session, 'subject' | 'name' | 'admin' | 'rules'>;

export function createSessions(config: Config, identity: IdentityStore) {
  const idleMs = durationMs(config['session-idle'])!;
  const maxMs = durationMs(config['session-max'])!;
  // Over https the cookie is `__Host-chat_session`: Secure, Path=/, no Domain, so no other host or path can set it.
  const cookieOf = (c: Context<AppEnv>) => (c.get('client').https ? getCookie(c, SESSION_COOKIE, 'host') : getCookie(c, SESSION_COOKIE));
  const options = (c: Context<AppEnv>, maxAge: number): CookieOptions => {
    const https = c.get('client').https;
    return { httpOnly: true, sameSite: 'Strict', path: '/', secure: https, maxAge, ...(https ? { prefix: 'host' as const } : {}) };
  };

  return {
    idleMs,
    /** The live session the request's cookie names, with its digest, or null. */
    async read(c: Context<AppEnv>): Promise<{ digest: string; session: Session } | null> {
      const id = cookieOf(c);
      if (!id || id.length > 100) return null;
      const digest = digestOf(id);
      const session = await identity.getSession(digest, idleMs);
      if (!session) return null;
      const now = Date.now();
      if (now - session.seen > TOUCH_EVERY_MS) void identity.touchSession(digest, now).catch(() => {}); // best effort
      return { digest, session };
    },
    /**
     * Signs the browser in: the session its cookie named (if any) is revoked, and a new one is made, ending after
     * --session-max or at `until` (ms since the epoch: a JWT's expiry), whichever comes first. Returns its digest.
     */
    async start(c: Context<AppEnv>, grant: SessionGrant, until = Infinity): Promise<string> {
      const old = cookieOf(c);
      if (old && old.length <= 100) await identity.deleteSession(digestOf(old));
      const id = newSecret();
      const now = Date.now();
      const digest = digestOf(id);
      const expires = Math.min(now + maxMs, until);
      await identity.putSession(digest, { ...grant, created: now, seen: now, expires });
      setCookie(c, SESSION_COOKIE, id, options(c, Math.max(1, Math.floor((expires - now) / 1000))));
      return digest;
    },
    /** Signs the browser out: its session ends on every instance, and the cookie is cleared. */
    async end(c: Context<AppEnv>): Promise<void> {
      const id = cookieOf(c);
      if (id && id.length <= 100) await identity.deleteSession(digestOf(id));
      deleteCookie(c, SESSION_COOKIE, options(c, 0));
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
