import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { AppEnv } from '../middleware/app-env.ts';
import { fail } from '../lib/errors.ts';
import { clientSchema, firstIssue, nameSchema, roomSchema } from '../lib/input.ts';
import { valid } from '../lib/validate.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The new name from a rename's body: JSON `{"name": …}`, a form field `name`, or the whole text body. */
async function readName(req: Request): Promise<unknown> {
  const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  let body: string;
  try {
    body = utf8.decode(await req.arrayBuffer());
  } catch {
    fail(400, 'body is not valid UTF-8');
  }
  if (type === 'application/json') {
    try {
      const value: unknown = JSON.parse(body);
      return typeof value === 'object' && value !== null && 'name' in value ? value.name : undefined;
    } catch {
      fail(400, 'body is not valid JSON');
    }
  }
  if (type === 'application/x-www-form-urlencoded' && /(^|&)name=/.test(body)) return new URLSearchParams(body).get('name');
  return body;
}

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
      const name = nameSchema.safeParse(await readName(c.req.raw));
      if (!name.success) fail(422, firstIssue(name.error));
      const { hub } = c.get('deps');
      if (!hub.noteName(room, client, name.data)) fail(404, `client ${client} has no open stream in room ${room}`);
      const { change: _change, changes: _changes, ...presence } = hub.members(room);
      return c.json(presence);
    },
  );
