import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { AppEnv } from '../middleware/app-env.ts';
import { fail } from '../lib/errors.ts';
import { clientSchema, firstIssue, nameSchema, roomSchema } from '../lib/input.ts';
import { valid } from '../lib/validate.ts';
import { readBodyFields } from '../middleware/message-body.ts';

/** Who is in a room now (the same data as the SSE `presence` event), and renaming yourself in it. */
export const members = new Hono<AppEnv>()
  .get('/rooms/:room/members', valid('param', z.object({ room: roomSchema })), (c) => {
    const { room } = c.req.valid('param');
    const { change: _change, changes: _changes, ...presence } = c.get('deps').hub.members(room);
    return c.json(presence);
  })
  .put(
    '/rooms/:room/members/:client',
    valid('param', z.object({ room: roomSchema, client: clientSchema })),
    bodyLimit({ maxSize: 1024, onError: () => fail(413, 'a name fits in 1024 bytes') }),
    async (c) => {
      const { room, client } = c.req.valid('param');
      const fields = await readBodyFields(c.req.raw, 'name', c.get('deps').config['body-timeout']);
      // Signed in, your name is your identity's: a rename keeps it (it names a stream that lost it, at most).
      const name = nameSchema.safeParse(c.get('who').name ?? fields.name);
      if (!name.success) fail(422, firstIssue(name.error));
      const { hub } = c.get('deps');
      if (!hub.renameMember(room, client, name.data)) fail(404, `client ${client} has no open stream in room ${room}`);
      const { change: _change, changes: _changes, ...presence } = hub.members(room);
      return c.json(presence);
    },
  );
