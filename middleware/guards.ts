import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './app-env.ts';
import type { Context } from 'hono';
import type { Config } from '../lib/config.ts';
import { fail } from '../lib/errors.ts';
import { limitKey } from '../lib/ip-address.ts';
import { publicClient } from '../lib/input.ts';
import { createRateLimiter } from '../lib/rate-limit.ts';

/** Typing notices a client id may send: a page sends one every 2.5 s while its user types. */
const TYPING_LIMITS = { perSecond: 1, burst: 3, perSecondIp: 20, burstIp: 60 } as const;

/**
 * Rate limits on posts and typing notices, per sender and per address (an IPv6 one by its /64). The sender is the
 * identity decided at the door (`who`, middleware/identify.ts); for the anonymous, their address and client id
 * together, so a stranger elsewhere who sends someone's client id spends a bucket of their own, never theirs.
 * Who may do what is middleware/access.ts's; stream limits live in the hub, which counts streams.
 */
export function createGuards(config: Config) {
  const perClient = createRateLimiter({ perSecond: config['post-rate'], burst: config['post-burst'] });
  const perIp = createRateLimiter({ perSecond: config['post-rate-ip'], burst: config['post-burst-ip'] });
  // Typing notices are cheap and never stored, but each one wakes a room's Workers: a page sends one every few
  // seconds while someone types, so these buckets leave room for that and no more.
  const typingPerClient = createRateLimiter({ perSecond: TYPING_LIMITS.perSecond, burst: TYPING_LIMITS.burst });
  const typingPerIp = createRateLimiter({ perSecond: TYPING_LIMITS.perSecondIp, burst: TYPING_LIMITS.burstIp });

  /**
   * Whose bucket a request spends: a person's identity; for an identity many people share (the anonymous at one
   * address, the holders of the shared token) its client id at that identity, or none (the address's bucket alone).
   */
  const sender = (c: Context<AppEnv>): string | null => {
    const who = c.get('who');
    if (who.via !== 'anonymous' && who.id !== 'token') return who.id;
    const client = c.req.header('x-client-id') ?? c.req.query('client');
    return client ? `${who.id} ${limitKey(c.get('client').address)} ${publicClient(client)}` : null; // never the key itself
  };

  /**
   * One message's worth of tokens from the client's bucket, then the IP's. A flood from one client id runs dry
   * on its own bucket first, so other clients behind the same address keep getting through.
   */
  const postLimit = createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const from = sender(c);
    const ip = limitKey(c.get('client').address);
    const refuse = (wait: number, who: string) =>
      fail(429, `too many messages from ${who}; retry in ${wait} s`, { 'Retry-After': String(wait) });
    const clientWait = from ? perClient.peek(from) : 0;
    if (clientWait) refuse(clientWait, 'you');
    const ipWait = perIp.take(`ip:${ip}`);
    if (ipWait) refuse(ipWait, 'your address');
    if (from) perClient.take(from);
    await next();
  });

  /** One typing notice from the client's bucket and the address's (separate from the message buckets). */
  const typingLimit = createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const from = sender(c);
    const wait = (from ? typingPerClient.take(from) : 0) || typingPerIp.take(`ip:${limitKey(c.get('client').address)}`);
    if (wait) fail(429, `too many typing notices; retry in ${wait} s`, { 'Retry-After': String(wait) });
    await next();
  });

  return { postLimit, typingLimit };
}
