import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv, Deps } from './middleware/app-env.ts';
import { IdempotencyConflictError, StoreUnavailableError } from './store/types.ts';
import { HubFullError } from './fanout/hub-api.ts';
import { events } from './routes/events.ts';
import { health } from './routes/health.ts';
import { members } from './routes/members.ts';
import { typing } from './routes/typing.ts';
import { messages } from './routes/messages.ts';
import { page } from './routes/page.ts';
import { status } from './routes/status.ts';
import { debug } from './routes/debug.ts';
import { assets } from './routes/static.ts';
import { createLogin } from './routes/login.ts';
import { createGuards } from './middleware/guards.ts';
import { createSignInLimit } from './middleware/sign-in-limit.ts';
import { createAppMetrics } from './middleware/app-metrics.ts';
import { metrics } from './routes/metrics.ts';
import { observeRequests } from './middleware/observe-requests.ts';
import { clientAddress } from './middleware/client-address.ts';

/** The whole HTTP surface, the same on Bun and Node. */
export function createApp(given: Omit<Deps, 'metrics'> & { metrics?: Deps['metrics'] }) {
  const deps: Deps = { ...given, metrics: given.metrics ?? createAppMetrics() };
  const app = new Hono<AppEnv>();
  const guards = createGuards(deps.config);
  app.use(clientAddress(deps.config['trust-proxy'], deps.runtime)); // first: everything after may ask who this is
  const signIn = createSignInLimit(deps.config); // wrong tokens per address, on the form and in Bearer headers
  app.use(async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.use(observeRequests);
  app.use(signIn.bearer);
  app.use(guards.auth);
  app.use('/rooms/:room/messages', guards.postLimit);
  app.use('/rooms/:room/typing', guards.typingLimit);
  app.route('/', health);
  app.route('/', metrics);
  app.route('/', createLogin(signIn));
  app.route('/', assets);
  app.route('/', messages);
  app.route('/', events);
  app.route('/', members);
  app.route('/', typing);
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
