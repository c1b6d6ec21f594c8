import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../middleware/app-env.ts';
import { fail } from '../lib/errors.ts';
import { valid } from '../lib/validate.ts';
import { clientKeySchema, eventIdSchema, firstIssue, roomSchema, streamQuerySchema } from '../lib/input.ts';
import { limitKey } from '../lib/ip-address.ts';
import type { Since } from '../lib/input.ts';
import type { Store } from '../store/types.ts';
import { idBefore } from '../store/time-position.ts';
import type { StreamFormat } from '../views/frames.ts';

/** The id a stream or a history read starts after, for `since=`: the id itself, '0' for all, or a time's place. */
export const startOf = (store: Store, room: string, since: Since): Promise<string> | string =>
  'id' in since ? since.id : 'all' in since ? '0' : idBefore(store, room, Date.now() - since.ms);
import type { Who } from '../lib/identity.ts';
import { checkName } from '../middleware/names.ts';

export const RETRY_MS = 2000;

/** A signed-in identity owns its streams: a revocation or the end of its credential ends them (Hub.revoke). */
export const ownerOf = (who: Who) => (who.via === 'anonymous' ? undefined : { subject: who.id, session: who.session, until: who.until ?? null });
/** What a stream is sent as: SSE, or plain lines for `raw` and `ndjson`. */
export const streamHeaders = (format: StreamFormat) =>
  format === 'raw' ? { ...SSE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }
    : format === 'ndjson' ? { ...SSE_HEADERS, 'Content-Type': 'application/x-ndjson' }
    : SSE_HEADERS;
export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no', // proxies such as nginx would otherwise buffer the stream
  // No `Connection: keep-alive`: HTTP/1.1 keeps the connection by default, and HTTP/2 forbids the header.
};

/** The live stream of a room: Server-Sent Events written by the stream's own Worker. */
export const events = new Hono<AppEnv>().get(
  '/rooms/:room/events',
  valid('param', z.object({ room: roomSchema })),
  valid('query', streamQuerySchema),
  async (c) => {
    const { hub, config, runtime } = c.get('deps');
    // Hono answers HEAD by running this handler and dropping the body, which would leave a stream and its
    // Worker open with nobody to cancel it: a HEAD gets the headers and no stream.
    if (c.req.method === 'HEAD') return new Response(null, { headers: streamHeaders(c.req.valid('query').format) });
    const { room } = c.req.valid('param');
    const query = c.req.valid('query');
    // EventSource and htmx send the header on reconnect; a first connect may name its position in the query.
    const header = c.req.header('last-event-id');
    const fromHeader = header ? eventIdSchema.safeParse(header) : null;
    if (fromHeader && !fromHeader.success) fail(400, firstIssue(fromHeader.error));
    // A reconnect's Last-Event-ID wins; then since= (an id, `all`, or a time back from now); then ?lastEventId=.
    const lastEventId = fromHeader?.data ?? (query.since ? await startOf(c.get('deps').store, room, query.since) : null) ?? query.lastEventId ?? null;
    // The query's client key was checked (and made public) with the query; one from the header is checked here.
    const fromClientHeader = c.req.header('x-client-id');
    const checkedClient = fromClientHeader === undefined ? null : clientKeySchema.safeParse(fromClientHeader);
    if (checkedClient && !checkedClient.success) fail(400, firstIssue(checkedClient.error));
    const client = checkedClient?.data ?? query.client ?? null;
    await checkName(c, query.name); // anonymous: not a signed-in person's name, nor a look-alike of it

    const stream = await hub.open({
      room,
      client,
      name: c.get('who').name ?? query.name ?? null, // signed in, the identity's name
      format: query.format,
      lastEventId,
      history: query.history ?? config.history,
      retryMs: RETRY_MS,
      heartbeatMs: config.heartbeat,
      slowMs: config['slow-ms'],
      fault: config.faults ? (query.fault ?? null) : null,
      peer: c.get('client').peer,
      address: limitKey(c.get('client').address), // per-address limits count an IPv6 client by its /64
      owner: ownerOf(c.get('who')),
      poll: query.poll ?? false,
    });
    runtime.keepOpen(c.req.raw, c.env);
    return new Response(stream, { headers: streamHeaders(query.format) });
  },
);
