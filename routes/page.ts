import { Hono, type Context } from 'hono';
import type { ChatMessage } from '../lib/chat-types.ts';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from '../middleware/app-env.ts';
import { fail } from '../lib/errors.ts';
import { looksDirect } from '../lib/direct.ts';
import { eventIdSchema, firstIssue, LIMITS, normalizeRoom, ROOM_RULE, roomPath, roomSchema, searchQuerySchema } from '../lib/input.ts';
import type { Store } from '../store/types.ts';
import { roomList } from './rooms.ts';
import { RoomPage } from '../views/room.tsx';
import { edgeOf, type HistoryEdge } from '../views/older.tsx';
import type { SearchState } from '../views/search.tsx';

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

/** Results a search shows at most on the page (the box without JavaScript, and the htmx one: the route's default). */
const SEARCH_RESULTS = 100;

/**
 * The history around message `id` (a search result opened): up to half the page's history before it and after it,
 * and what is before those; null when the room has no such message (deleted, or no longer kept).
 */
async function around(store: Store, room: string, id: string, history: number): Promise<{ messages: ChatMessage[]; older: HistoryEdge } | null> {
  const message = await store.find(room, id);
  if (!message) return null;
  const half = Math.max(1, Math.floor(history / 2));
  const [before, after] = await Promise.all([store.before(room, id, half), store.since(room, id, half)]);
  return { messages: [...before.messages, message, ...after.messages], older: edgeOf(before) };
}

/** `?q=` (the search box without JavaScript): its results, or why it could not search. */
async function searchOf(store: Store, room: string, typed: string): Promise<SearchState> {
  const query = searchQuerySchema.safeParse(typed);
  if (!query.success) return { query: typed.slice(0, LIMITS.search), messages: [], limit: SEARCH_RESULTS, error: `${firstIssue(query.error)}.` };
  return { query: query.data, messages: await store.search(room, query.data, SEARCH_RESULTS), limit: SEARCH_RESULTS };
}

const renderRoom = async (c: Context<AppEnv>, room: string) => {
  const { store, config, hub } = c.get('deps');
  const who = c.get('who');
  // `?at=ID`: the room around that message (a search result), highlighted, instead of the recent history.
  const at = c.req.query('at');
  if (at !== undefined && !eventIdSchema.safeParse(at).success) fail(400, 'at must be the id of a message');
  const opened = at === undefined ? null : await around(store, room, at, config.history);
  const messages = opened?.messages ?? (await store.recent(room, config.history));
  // Limit 0: only whether older messages are kept (the page then scrolls back to them), or why not.
  const older = opened?.older ?? (messages[0] ? edgeOf(await store.before(room, messages[0].id, 0)) : 'start');
  const q = c.req.query('q');
  const search = q === undefined ? {} : { search: await searchOf(store, room, q) };
  const place = opened ? { found: at } : at !== undefined ? { notice: 'That message is not here any more (deleted, or no longer kept): here is the recent history.' } : {};
  const { members, count, watching } = hub.members(room);
  // A direct room reads as the other person (lib/direct.ts), or as "someone" when no name for them is known here.
  const label = looksDirect(room) ? `@${(await c.get('deps').people.partnerIn(who, room)) ?? 'someone'}` : undefined;
  // The page carries live state (history, who is here): always fetch it fresh; its assets are versioned instead.
  c.header('Cache-Control', 'no-cache');
  return c.html('<!DOCTYPE html>' + String(RoomPage({ room, messages, older, retention: config.retention, presence: { members, count, watching }, signOut: who.session !== null, me: who.via === 'anonymous' ? null : who.name, sendKey: crypto.randomUUID(), name: c.req.query('name'), label, ...search, ...place })));
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
