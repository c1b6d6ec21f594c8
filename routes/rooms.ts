import type { Context } from 'hono';
import type { AppEnv } from '../middleware/app-env.ts';
import { fail } from '../lib/errors.ts';
import { may } from '../lib/identity.ts';
import { hasPersonKey, looksDirect } from '../lib/direct.ts';
import { roomListText, RoomListView, type RoomListing } from '../views/room-list.tsx';

/** Rooms listed at the most: the newest by their last message. */
const MAX_LISTED = 500;

/**
 * `GET /rooms` (without `?room=`, which is the switcher's redirect): the rooms the requester may read, newest first,
 * each with who is in it and the time of its newest message, as JSON (`{"rooms": [...]}`), text lines
 * (`format=text`), or an htmx fragment (`format=html`, or an htmx request).
 */
export async function roomList(c: Context<AppEnv>): Promise<Response> {
  const { store, hub } = c.get('deps');
  const who = c.get('who');
  const format = c.req.query('format') ?? (c.req.header('hx-request') ? 'html' : 'json');
  if (!['json', 'text', 'html'].includes(format)) fail(400, 'format must be json, text or html');
  const rooms: RoomListing[] = (await store.rooms(MAX_LISTED))
    .filter((r) => may(who, 'read', r.room))
    .map((r) => {
      const { members, watching } = hub.members(r.room);
      return { name: r.room, here: members.length, watching: watching ?? 0, last: r.last, lastId: r.lastId };
    });
  // A direct room is listed with the other person's name (lib/direct.ts), where this instance knows it.
  for (const r of rooms) {
    const partner = looksDirect(r.name) ? await c.get('deps').people.partnerIn(who, r.name) : null;
    if (partner !== null) r.with = partner;
  }
  if (format === 'text') return c.text(roomListText(rooms));
  if (format === 'html') return c.html(RoomListView({ rooms }));
  // Signed in with an identity of one's own: where this person last read each room (routes/read-positions.ts), as `read`.
  const { identity } = c.get('deps');
  if (identity && hasPersonKey(who.id)) {
    const read = await identity.readPositions(who.id);
    return c.json({ rooms: rooms.map((r) => (Object.hasOwn(read, r.name) ? { ...r, read: read[r.name] } : r)) });
  }
  return c.json({ rooms });
}
