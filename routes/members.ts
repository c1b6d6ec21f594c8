import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { AppEnv } from '../middleware/app-env.ts';
import { fail } from '../lib/errors.ts';
import { clientKeySchema, firstIssue, nameSchema, roomSchema } from '../lib/input.ts';
import { valid } from '../lib/validate.ts';
import { readBodyFields } from '../middleware/message-body.ts';
import { checkName } from '../middleware/names.ts';

/** Who is in a room now (the same data as the SSE `presence` event), and renaming yourself in it. */
export const members = new Hono<AppEnv>()
  .get('/rooms/:room/members', valid('param', z.object({ room: roomSchema })), (c) => {
    const { room } = c.req.valid('param');
    const { change: _change, changes: _changes, ...presence } = c.get('deps').hub.members(room);
    return c.json(presence);
  })
  .put(
    '/rooms/:room/members/:client',
    // `me` with the key in X-Client-Id (the page, bin/chat), or the key in the path as before: either way the key,
    // never a client id someone could have seen, names the streams to rename.
    valid('param', z.object({ room: roomSchema, client: z.string() })),
    bodyLimit({ maxSize: 1024, onError: () => fail(413, 'a name fits in 1024 bytes') }),
    async (c) => {
      const { room, client: given } = c.req.valid('param');
      const key = clientKeySchema.safeParse(given === 'me' ? c.req.header('x-client-id') : given);
      if (!key.success) fail(400, given === 'me' ? 'renaming "me" needs your client id in X-Client-Id (the one your stream was opened with)' : firstIssue(key.error));
      const client = key.data;
      const fields = await readBodyFields(c.req.raw, 'name', c.get('deps').config['body-timeout']);
      // Signed in, your name is your identity's: a rename keeps it (it names a stream that lost it, at most).
      const name = nameSchema.safeParse(c.get('who').name ?? fields.name);
      if (!name.success) fail(422, firstIssue(name.error));
      await checkName(c, name.data); // anonymous: not a signed-in person's name, nor a look-alike of it
      const { hub } = c.get('deps');
      if (!hub.renameMember(room, client, name.data)) fail(404, `that client has no open stream in room ${room}`);
      const { change: _change, changes: _changes, ...presence } = hub.members(room);
      return c.json(presence);
    },
  );
