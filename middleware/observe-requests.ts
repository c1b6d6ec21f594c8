import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './app-env.ts';
import { statusClass } from './app-metrics.ts';

const MESSAGES = /^\/rooms\/[^/]+\/messages$/;

/**
 * Counts every response by status class, times the POSTs that stored a message, and (at debug level) logs one
 * line per request. Runs outermost, so it sees the responses that app.onError made too.
 */
export const observeRequests = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  await next();
  const { metrics, logger } = c.get('deps');
  const status = c.res.status;
  metrics.responses[statusClass(status)].inc();
  const seconds = (performance.now() - started) / 1000;
  if (c.req.method === 'POST' && (status === 201 || status === 303) && MESSAGES.test(c.req.path)) metrics.post.observe(seconds);
  logger.debug('request', { method: c.req.method, path: c.req.path, status, ms: Math.round(seconds * 10_000) / 10, peer: c.get('client').peer });
});
