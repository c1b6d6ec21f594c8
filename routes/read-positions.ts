import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { AppEnv } from '../middleware/app-env.ts';
import { fail } from '../lib/errors.ts';
import { hasPersonKey } from '../lib/direct.ts';
import { eventIdSchema, roomSchema } from '../lib/input.ts';
import { valid } from '../lib/validate.ts';
import { readBodyFields } from '../middleware/message-body.ts';

/**
 * Read positions per account: where a signed-in person last read each room, kept in the identity store
 * (IdentityStore.setReadPosition), so the room switcher's unread counts follow them to another browser. Only an
 * identity of one's own has them (`user:NAME`, `jwt:SUB`); the anonymous and the shared token's identity are many
 * people at once, and their browsers keep their own (views/assets/room-switcher.js, localStorage).
 *
 * `PUT /rooms/:room/read` with `{"id": "<message id>"}`: 204; a position never moves back (the later id is kept).
 * The room's read right is checked before (app.ts). `GET /read`: `{"read": {room: id, ...}}`, `{}` for the others.
 */
const ownsPositions = hasPersonKey; // a person of their own: an account, a JWT subject
const bodySchema = z.object({ id: eventIdSchema });

/** The identity store, for an identity of one's own; refuses the others. */
function positionsOf(c: Context<AppEnv>) {
  const { identity, config } = c.get('deps');
  // Open mode signs nobody in (and a store may have no identity ability): nothing here keeps positions.
  if (!identity || config.auth === 'open') fail(404, 'this server keeps no read positions (it has no sign-ins); this browser keeps its own');
  if (!ownsPositions(c.get('who').id)) fail(403, 'read positions are kept for signed-in accounts only; this browser keeps its own');
  return identity;
}

export const readPositions = new Hono<AppEnv>()
  .put(
    '/rooms/:room/read',
    valid('param', z.object({ room: roomSchema })),
    bodyLimit({ maxSize: 1024, onError: () => fail(413, 'a read position fits in 1024 bytes') }),
    async (c) => {
      const { room } = c.req.valid('param');
      const identity = positionsOf(c);
      const fields = await readBodyFields(c.req.raw, null, c.get('deps').config['body-timeout']); // JSON (or a form)
      const read = bodySchema.safeParse(fields);
      if (!read.success) fail(400, 'send JSON {"id": "<message id>"}: the id of the last message read in the room, as the server sent it');
      await identity.setReadPosition(c.get('who').id, room, read.data.id);
      return c.body(null, 204);
    },
  )
  .get('/read', async (c) => {
    const { identity } = c.get('deps');
    const subject = c.get('who').id;
    return c.json({ read: identity && ownsPositions(subject) ? await identity.readPositions(subject) : {} });
  });
