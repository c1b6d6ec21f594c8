import { Hono } from 'hono';
import type { AppEnv } from '../middleware/app-env.ts';

/** Liveness and a few numbers operators want at a glance. */
export const health = new Hono<AppEnv>().get('/healthz', (c) => {
  const { hub, store, runtime } = c.get('deps');
  return c.json({ ok: true, runtime: runtime.name, store: store.kind, ...hub.stats() });
});
