import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../middleware/app-env.ts';
import { fail } from '../lib/errors.ts';
import { roomSchema } from '../lib/input.ts';
import { valid } from '../lib/validate.ts';

/**
 * Test hooks, alive only when the server runs with fault injection (`--faults`, CHAT_FAULTS=1). Otherwise every
 * path here answers 404 like any unknown route, so a production server shows no sign of them.
 */
export const debug = new Hono<AppEnv>()
  .use('/debug/*', async (c, next) => {
    if (!c.get('deps').config.faults) fail(404, `no route for ${c.req.method} ${c.req.path}`);
    await next();
  })
  /**
   * Collects the main thread's garbage, so a memory reading after it is not one of garbage not yet collected;
   * answers with the main thread's JavaScript heap in use after it (what a leak of our own objects grows).
   */
  .post('/debug/gc', (c) => {
    const collected = c.get('deps').runtime.collectGarbage?.() ?? false;
    return c.json({ collected, heapBytes: process.memoryUsage().heapUsed });
  })
  /** Ends every stream of a room at once, without a final event, as a dropped network would. */
  .post('/debug/rooms/:room/drop', valid('param', z.object({ room: roomSchema })), (c) => {
    const { hub } = c.get('deps');
    const { room } = c.req.valid('param');
    // Counted on this instance: drop() ends streams synchronously, and presence counts other instances' too.
    const before = hub.stats().streams;
    hub.drop(room);
    return c.json({ room, dropped: before - hub.stats().streams });
  });
