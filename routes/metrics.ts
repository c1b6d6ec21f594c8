import { Hono } from 'hono';
import type { AppEnv } from '../middleware/app-env.ts';
import { PROMETHEUS_CONTENT_TYPE } from '../lib/metrics.ts';

/** Prometheus scrape endpoint (behind --token like everything but /healthz: scrape with a Bearer token). */
export const metrics = new Hono<AppEnv>().get('/metrics', (c) => {
  const { metrics, hub } = c.get('deps');
  return c.body(metrics.render(hub.stats()), 200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Cache-Control': 'no-store' });
});
