import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../app-env.ts';
import { roomSchema } from '../lib/input.ts';
import { valid } from '../lib/validate.ts';

/** Who is in a room now: the same data as the SSE `presence` event. */
export const members = new Hono<AppEnv>().get('/rooms/:room/members', valid('param', z.object({ room: roomSchema })), (c) => {
  const { room } = c.req.valid('param');
  const { change: _change, ...presence } = c.get('deps').hub.members(room);
  return c.json(presence);
});
