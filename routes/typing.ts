import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { AppEnv } from '../middleware/app-env.ts';
import { fail } from '../lib/errors.ts';
import { clientKeySchema, firstIssue, nameSchema, roomSchema } from '../lib/input.ts';
import { valid } from '../lib/validate.ts';
import { readBodyFields } from '../middleware/message-body.ts';
import { checkName } from '../middleware/names.ts';

/**
 * `POST /rooms/:room/typing`: the client is typing. Nothing is stored; the room's other streams get a `typing`
 * event (the hub coalesces a room's notices, and keeps them off the typist's own streams, which is why the
 * client id is required). Limited per client and per address by guards.typingLimit. 204 when taken.
 */
export const typing = new Hono<AppEnv>().post(
  '/rooms/:room/typing',
  valid('param', z.object({ room: roomSchema })),
  bodyLimit({ maxSize: 1024, onError: () => fail(413, 'a typing notice fits in 1024 bytes') }),
  async (c) => {
    const { room } = c.req.valid('param');
    const { hub, config } = c.get('deps');
    const fields = await readBodyFields(c.req.raw, 'name', config['body-timeout']);
    const client = clientKeySchema.safeParse(fields.client ?? c.req.header('x-client-id') ?? c.req.query('client'));
    if (!client.success) fail(400, 'a typing notice needs your client id (X-Client-Id: the one your stream was opened with), so your own streams do not get it back');
    const name = nameSchema.safeParse(c.get('who').name ?? fields.name ?? c.req.query('name')); // signed in: the identity's
    if (!name.success) fail(422, firstIssue(name.error));
    await checkName(c, name.data); // anonymous: not a signed-in person's name, nor a look-alike of it
    hub.typing(room, client.data, name.data);
    return c.body(null, 204);
  },
);
