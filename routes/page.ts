import { Hono, type Context } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from '../middleware/app-env.ts';
import { fail } from '../lib/errors.ts';
import { normalizeRoom, ROOM_RULE, roomPath, roomSchema } from '../lib/input.ts';
import { roomList } from './rooms.ts';
import { RoomPage } from '../views/room.tsx';
import { edgeOf } from '../views/older.tsx';

/**
 * Strict CSP: scripts and styles only from this origin, nothing inline, no framing. Referrer-Policy same-origin,
 * not the default no-referrer: under no-referrer a browser sends `Origin: null` with the page's own form posts,
 * which middleware/same-origin.ts must refuse; same-origin still tells other sites nothing.
 */
export const csp = secureHeaders({
  referrerPolicy: 'same-origin',
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
});

/**
 * What someone typed as a room name, as a room: `My Room` → `my-room`, `#dev` → `dev`, `Łódź` → `łódź` (letters of
 * any script stay; lib/input.ts has the rule). Null if nothing is left.
 */
export function roomSlug(typed: string): string | null {
  const kept = [...normalizeRoom(typed.trim().replace(/^#+/, '').replace(/\s+/g, '-'))].filter((ch) => /[\p{L}\p{M}\p{N}_-]/u.test(ch));
  const slug = kept.slice(0, 64).join('');
  return roomSchema.safeParse(slug).success ? slug : null;
}

const renderRoom = async (c: Context<AppEnv>, room: string) => {
  const { store, config, hub } = c.get('deps');
  const who = c.get('who');
  const messages = await store.recent(room, config.history);
  // Limit 0: only whether older messages are kept (the page then scrolls back to them), or why not.
  const older = messages[0] ? edgeOf(await store.before(room, messages[0].id, 0)) : 'start';
  const { members, count, watching } = hub.members(room);
  // The page carries live state (history, who is here): always fetch it fresh; its assets are versioned instead.
  c.header('Cache-Control', 'no-cache');
  return c.html('<!DOCTYPE html>' + String(RoomPage({ room, messages, older, retention: config.retention, presence: { members, count, watching }, signOut: who.session !== null, me: who.via === 'anonymous' ? null : who.name, sendKey: crypto.randomUUID(), name: c.req.query('name') })));
};

/** The htmx page of a room; `/` is room `main`; `/rooms?room=NAME` is the room switcher without JavaScript. */
export const page = new Hono<AppEnv>()
  .use('/', csp)
  .use('/rooms/:room', csp)
  .get('/', (c) => renderRoom(c, 'main'))
  .get('/rooms', async (c) => {
    if (c.req.query('room') === undefined) return roomList(c); // the room list; with ?room=, the switcher's redirect
    const room = roomSlug(c.req.query('room') ?? '');
    if (room === null) fail(400, ROOM_RULE);
    return c.redirect(roomPath(room), 303);
  })
  .get('/rooms/:room', async (c) => {
    const typed = c.req.param('room');
    const room = roomSchema.safeParse(typed);
    if (room.success && room.data === typed) return renderRoom(c, room.data);
    // A room typed into the address bar as `/rooms/Dev` or `/rooms/my room`: the page of the room it means.
    const slug = room.success ? room.data : roomSlug(typed);
    if (slug === null) fail(400, ROOM_RULE);
    return c.redirect(roomPath(slug), 308);
  });
