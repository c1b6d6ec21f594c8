import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../middleware/app-env.ts';
import { STATUS_ROOM } from '../fanout/hub-api.ts';
import { valid } from '../lib/validate.ts';
import { streamQuerySchema } from '../lib/input.ts';
import { limitKey } from '../lib/ip-address.ts';
import { StatusPage } from '../views/status.tsx';
import { csp } from './page.ts';
import { ownerOf, RETRY_MS, streamHeaders } from './events.ts';

/** The page's own stream: snapshots as html, which hx-sse swaps in. */
const STATUS_STREAM_URL = '/status/events?format=html';

/**
 * GET /status, a live view of the Workers, and GET /status/events, its stream: opened on the hub like any stream
 * (its own Worker, counted against --max-streams) on the status room, which no client room can be. Both are for
 * admins in every mode with a sign-in (app.ts: requireAdmin).
 */
export const status = new Hono<AppEnv>()
  .use('/status', csp)
  .get('/status', (c) => {
    c.header('Cache-Control', 'no-cache');
    return c.html('<!DOCTYPE html>' + String(StatusPage({ streamUrl: STATUS_STREAM_URL })));
  })
  .get('/status/events', valid('query', z.object({ format: streamQuerySchema.shape.format })), async (c) => {
    if (c.req.method === 'HEAD') return new Response(null, { headers: streamHeaders(c.req.valid('query').format) }); // no stream for nobody (events.ts)
    const { hub, config, runtime } = c.get('deps');
    const client = c.get('client');
    const stream = await hub.open({
      room: STATUS_ROOM,
      client: null,
      name: null,
      format: c.req.valid('query').format,
      lastEventId: null, // snapshots carry no id: a reconnect starts with the next one
      history: 0,
      retryMs: RETRY_MS,
      heartbeatMs: config.heartbeat,
      slowMs: config['slow-ms'],
      fault: null,
      peer: client.peer,
      address: limitKey(client.address),
      owner: ownerOf(c.get('who')),
    });
    runtime.keepOpen(c.req.raw, c.env);
    return new Response(stream, { headers: streamHeaders(c.req.valid('query').format) });
  });
