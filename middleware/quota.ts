import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './app-env.ts';
import type { Config } from '../lib/config.ts';
import type { NewMessage } from '../lib/chat-types.ts';
import { fail } from '../lib/errors.ts';
import { createRateLimiter, type RateLimiter } from '../lib/rate-limit.ts';
import type { Store } from '../store/types.ts';

const DAY_S = 86_400;
const HOUR_S = 3_600;
const utf8 = new TextEncoder();

/**
 * Quotas per identity (`who.id`: an account, a JWT subject, or `anon:ADDRESS` by its /64 for the anonymous), on
 * what a post leaves behind rather than how fast it comes: bytes of message text a day (--quota-bytes-day) and
 * new rooms an hour (--quota-rooms-hour). The post limits (middleware/guards.ts) still let one address store
 * 50 messages a second for ever: 2,500 posts into 2,500 new rooms in 55 s grew a database by 14 MB. Each quota is
 * a token bucket whose burst is the whole period's allowance, refilled continuously over the period, so a quiet
 * identity can use its day at once and a steady one gets the rate; kept per instance, in memory, bounded as the
 * other limiters are. Admins (the operator, token holders) are exempt.
 *
 * The text, and whether the room is new, are known only once the route has read and checked the body, and the
 * route stores through `deps.store`: so this hands the route a store that checks both just before the append,
 * with the exact text as it will be stored, and charges them once the append resolves. A post refused for
 * another reason (422, the name check, a failed write) costs nothing, and an idempotent replay stored nothing
 * new and is not charged. The check peeks and the charge comes after: posts of one identity that pass their
 * check at the same moment all pay (the bucket may go below zero and the next post waits it out), so the overrun
 * is at most the posts in flight at once, which the post limits bound; never a charge for what was not stored.
 */
export function createQuota(config: Config) {
  const bytesPerDay = config['quota-bytes-day'];
  const roomsPerHour = config['quota-rooms-hour'];
  const bytes = bytesPerDay > 0 ? createRateLimiter({ perSecond: bytesPerDay / DAY_S, burst: bytesPerDay }) : null;
  const rooms = roomsPerHour > 0 ? createRateLimiter({ perSecond: roomsPerHour / HOUR_S, burst: roomsPerHour }) : null;
  return createMiddleware<AppEnv>(async (c, next) => {
    const who = c.get('who');
    if (c.req.method !== 'POST' || (!bytes && !rooms) || who.admin) return next();
    const deps = c.get('deps');
    c.set('deps', { ...deps, store: withQuota(deps.store, who.id, { bytes, bytesPerDay, rooms, roomsPerHour }) });
    await next();
  });
}

interface Quotas {
  bytes: RateLimiter | null;
  bytesPerDay: number;
  rooms: RateLimiter | null;
  roomsPerHour: number;
}

/** `store` whose appends by `id` are checked against its quotas first and charged once stored. */
function withQuota(store: Store, id: string, quotas: Quotas): Store {
  const { bytes, bytesPerDay, rooms, roomsPerHour } = quotas;
  /** Refuses a message over a quota; else returns what to charge once it is stored. */
  const admit = async (message: NewMessage) => {
    const size = utf8.encode(message.text).byteLength;
    if (bytes) {
      if (size > bytesPerDay) {
        // No wait makes it fit: a 429 would send the client back for ever.
        fail(413, `this message is ${size} bytes of text, more than the ${bytesPerDay} bytes a day this server allows one sender (its --quota-bytes-day)`);
      }
      const wait = bytes.peek(id, size);
      if (wait) refuse(wait, `over the quota of ${bytesPerDay} bytes of messages a day (the server's --quota-bytes-day); this message (${size} bytes) fits again in ${wait} s`);
    }
    // A room is new when it has no message yet. Asked only while the rooms quota is on: one indexed read. A read
    // that fails (the store away) counts the room as not new: the append that follows then fails or succeeds on its
    // own, and its answer (503 stored "unknown" on a timeout) stays true, where this read's failure would not be.
    const opens = rooms !== null && (await store.recent(message.room, 1).then((m) => m.length === 0, () => false));
    if (opens) {
      const wait = rooms.peek(id);
      if (wait) refuse(wait, `over the quota of ${roomsPerHour} new rooms an hour (the server's --quota-rooms-hour); posting into rooms that have messages still works, and another new room in ${wait} s`);
    }
    return () => {
      bytes?.charge(id, size);
      if (opens) rooms.charge(id, 1);
    };
  };
  return {
    ...store,
    kind: store.kind,
    append: async (message) => {
      const charge = await admit(message);
      const saved = await store.append(message);
      charge();
      return saved;
    },
    appendOnce: async (message, key) => {
      const charge = await admit(message);
      const result = await store.appendOnce(message, key);
      if (!result.replayed) charge();
      return result;
    },
  };
}

function refuse(wait: number, reason: string): never {
  fail(429, reason, { 'Retry-After': String(wait) });
}
