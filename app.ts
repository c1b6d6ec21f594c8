import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv, Deps } from './middleware/app-env.ts';
import { unixSocketOf } from './lib/config.ts';
import { IdempotencyConflictError, StoreUnavailableError } from './store/types.ts';
import { HubFullError } from './fanout/hub-api.ts';
import { events } from './routes/events.ts';
import { health } from './routes/health.ts';
import { members } from './routes/members.ts';
import { typing } from './routes/typing.ts';
import { readPositions } from './routes/read-positions.ts';
import { messages } from './routes/messages.ts';
import { page } from './routes/page.ts';
import { status } from './routes/status.ts';
import { debug } from './routes/debug.ts';
import { assets } from './routes/static.ts';
import { createLogin } from './routes/login.ts';
import { createGuards } from './middleware/guards.ts';
import { createQuota } from './middleware/quota.ts';
import { createSignInLimit } from './middleware/sign-in-limit.ts';
import { createSessions } from './middleware/sessions.ts';
import { createIdentify } from './middleware/identify.ts';
import { requireAdmin, requireRight } from './middleware/access.ts';
import { identityStoreOf } from './store/identity-types.ts';
import { createAppMetrics } from './middleware/app-metrics.ts';
import { metrics } from './routes/metrics.ts';
import { observeRequests } from './middleware/observe-requests.ts';
import { clientAddress } from './middleware/client-address.ts';
import { hostName } from './middleware/host-name.ts';
import { sameOrigin } from './middleware/same-origin.ts';
import { createPeopleDirectory } from './middleware/people.ts';
import { direct } from './routes/direct.ts';

/** The whole HTTP surface, the same on Bun and Node. */
export function createApp(given: Omit<Deps, 'metrics' | 'people'> & { metrics?: Deps['metrics'] }) {
  const identity = given.identity ?? identityStoreOf(given.store);
  const deps: Deps = { ...given, identity, metrics: given.metrics ?? createAppMetrics(), people: createPeopleDirectory(identity) };
  const app = new Hono<AppEnv>();
  const guards = createGuards(deps.config);
  // First: everything after may ask who this is. On a unix socket (--listen) the peer is a local process, the proxy.
  app.use(clientAddress(deps.config['trust-proxy'], deps.runtime, unixSocketOf(deps.config.listen) !== null));
  const signIn = createSignInLimit(deps.config); // wrong credentials per address and account, on the form and in headers
  const sessions = deps.identity && deps.config.auth !== 'open' ? createSessions(deps.config, deps.identity) : undefined;
  app.use(async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.use(observeRequests);
  // The door, before any guard or route: a name this server does not answer to (DNS rebinding), then a request
  // from another origin (CSRF). After observeRequests, so their refusals are counted and logged like any other.
  app.use(hostName(deps.config, deps.logger));
  app.use(sameOrigin(deps.config['public-url']));
  app.use(createIdentify({ config: deps.config, identity: deps.identity, sessions, limit: signIn, jwt: deps.jwt }));
  app.use(async (c, next) => {
    deps.people.note(c.get('who')); // the names behind person keys, for direct rooms
    await next();
  });
  // The rights a room's routes need, checked on the identity decided at the door (middleware/access.ts).
  const open = deps.config.auth === 'open';
  app.on(['GET', 'HEAD'], ['/rooms/:room/events', '/rooms/:room/messages', '/rooms/:room/members', '/rooms/:room'], requireRight('read'));
  app.get('/', requireRight('read', 'main'));
  app.put('/rooms/:room/members/:client', requireRight('read'));
  app.post('/rooms/:room/messages', requireRight('write'));
  app.delete('/rooms/:room/messages/:id', requireRight('read')); // and its author's or an admin's (routes/messages.ts)
  app.patch('/rooms/:room/messages/:id', requireRight('write')); // and its author's (routes/messages.ts)
  app.post('/rooms/:room/typing', requireRight('write'));
  app.put('/rooms/:room/read', requireRight('read'));
  app.use('/status/*', requireAdmin(open));
  app.use('/status', requireAdmin(open));
  app.use('/metrics', requireAdmin(open));
  app.use('/rooms/:room/messages', guards.postLimit);
  // After the rate: a flood is refused by its rate first; the quotas count what posts leave in the store.
  app.use('/rooms/:room/messages', createQuota(deps.config));
  app.use('/rooms/:room/typing', guards.typingLimit);
  app.route('/', health);
  app.route('/', metrics);
  app.route('/', createLogin({ signIn, sessions, jwt: deps.jwt }));
  app.route('/', assets);
  app.route('/', messages);
  app.route('/', events);
  app.route('/', members);
  app.route('/', typing);
  app.route('/', readPositions);
  app.route('/', direct);
  app.route('/', page);
  app.route('/', status);
  app.route('/', debug); // 404 unless config.faults
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    if (error instanceof IdempotencyConflictError) {
      return c.json({ error: 'this Idempotency-Key was sent before with another message: use a new key for a new message' }, 422);
    }
    if (error instanceof StoreUnavailableError && error.outcome === 'unknown') {
      // The write reached the store and its answer did not come back: it may be stored. Say so, and how to retry.
      c.header('Retry-After', '5');
      return c.json({ error: `${error.message}; the message may have been stored: retry with the same Idempotency-Key (without one a retry may store it twice)`, stored: 'unknown' }, 503);
    }
    if (error instanceof HubFullError || error instanceof StoreUnavailableError) {
      c.header('Retry-After', String(error instanceof HubFullError ? error.retryAfter : 5));
      // A write that failed this way stored nothing: a retry is safe with a key or without.
      const stored = error instanceof StoreUnavailableError && c.req.method === 'POST' ? { stored: false } : {};
      return c.json({ error: `${error.message}; try again shortly`, ...stored }, 503);
    }
    deps.logger.error('request failed', { method: c.req.method, path: c.req.path, peer: c.get('client')?.peer, error: String(error?.stack ?? error) });
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
