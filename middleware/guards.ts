import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './app-env.ts';
import type { Config } from '../lib/config.ts';
import { createRequestCheck } from '../lib/auth.ts';
import { fail } from '../lib/errors.ts';
import { createRateLimiter } from '../lib/rate-limit.ts';

/** Typing notices a client id may send: a page sends one every 2.5 s while its user types. */
const TYPING_LIMITS = { perSecond: 1, burst: 3, perSecondIp: 20, burstIp: 60 } as const;

/**
 * What stands between the public and the chat: a shared-secret check (when --token is set) and POST rate
 * limits per client id and per IP. Stream limits live in the hub, which counts streams.
 */
export function createGuards(config: Config) {
  const perClient = createRateLimiter({ perSecond: config['post-rate'], burst: config['post-burst'] });
  const perIp = createRateLimiter({ perSecond: config['post-rate-ip'], burst: config['post-burst-ip'] });
  const signedIn = config.token ? createRequestCheck(config.token) : null;
  // Typing notices are cheap and never stored, but each one wakes a room's Workers: a page sends one every few
  // seconds while someone types, so these buckets leave room for that and no more.
  const typingPerClient = createRateLimiter({ perSecond: TYPING_LIMITS.perSecond, burst: TYPING_LIMITS.burst });
  const typingPerIp = createRateLimiter({ perSecond: TYPING_LIMITS.perSecondIp, burst: TYPING_LIMITS.burstIp });

  /** With a token configured, everything but health, static files and the login page needs it. */
  const auth = createMiddleware<AppEnv>(async (c, next) => {
    if (!signedIn || signedIn(c)) return next();
    const path = c.req.path;
    if (path === '/healthz' || path.startsWith('/static/') || path === '/login') return next();
    if (c.req.method === 'GET' && c.req.header('accept')?.includes('text/html') && !path.endsWith('/events')) {
      return c.redirect(`/login?next=${encodeURIComponent(path)}`, 303);
    }
    fail(401, 'this server needs a token: send "Authorization: Bearer <token>" (or sign in on the page)', { 'WWW-Authenticate': 'Bearer realm="threadchat"' });
  });

  /**
   * One message's worth of tokens from the client's bucket, then the IP's. A flood from one client id runs dry
   * on its own bucket first, so other clients behind the same address keep getting through.
   */
  const postLimit = createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const client = c.req.header('x-client-id') ?? c.req.query('client');
    const ip = c.get('client').address;
    const refuse = (wait: number, who: string) =>
      fail(429, `too many messages from ${who}; retry in ${wait} s`, { 'Retry-After': String(wait) });
    const clientWait = client ? perClient.peek(`client:${client}`) : 0;
    if (clientWait) refuse(clientWait, 'this client');
    const ipWait = perIp.take(`ip:${ip}`);
    if (ipWait) refuse(ipWait, 'your address');
    if (client) perClient.take(`client:${client}`);
    await next();
  });

  /** One typing notice from the client's bucket and the address's (separate from the message buckets). */
  const typingLimit = createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const client = c.req.header('x-client-id') ?? c.req.query('client');
    const wait = (client ? typingPerClient.take(`client:${client}`) : 0) || typingPerIp.take(`ip:${c.get('client').address}`);
    if (wait) fail(429, `too many typing notices; retry in ${wait} s`, { 'Retry-After': String(wait) });
    await next();
  });

  return { auth, postLimit, typingLimit };
}
