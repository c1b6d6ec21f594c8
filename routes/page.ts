import { Hono, type Context } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from '../app-env.ts';
import { fail } from '../lib/errors.ts';
import { roomSchema } from '../lib/input.ts';
import { RoomPage } from '../views/room.tsx';

/** Strict CSP: scripts and styles only from this origin, nothing inline, no framing. */
const csp = secureHeaders({
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

const renderRoom = async (c: Context<AppEnv>, room: string) => {
  const { store, config } = c.get('deps');
  const messages = await store.recent(room, config.history);
  return c.html('<!DOCTYPE html>' + String(RoomPage({ room, messages })));
};

/** The htmx page of a room; `/` is room `main`. */
export const page = new Hono<AppEnv>()
  .use('/', csp)
  .use('/rooms/:room', csp)
  .get('/', (c) => renderRoom(c, 'main'))
  .get('/rooms/:room', (c) => {
    const room = roomSchema.safeParse(c.req.param('room'));
    if (!room.success) fail(400, 'room must be 1-64 of a-z, 0-9, _ and -');
    return renderRoom(c, room.data);
  });
