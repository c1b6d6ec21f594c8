import { afterAll } from 'bun:test';
import { createApp } from '../../app.ts';
import { loadConfig } from '../../lib/config.ts';
import { createLogger } from '../../lib/logger.ts';
import { createMemoryStore } from '../../store/memory.ts';
import { createHub } from '../../fanout/hub.ts';

/** The whole app in process over a memory store and a real hub (closed after the file's tests). */
export function memoryApp() {
  const config = loadConfig(['--store', 'memory'], {});
  const store = createMemoryStore();
  const logger = createLogger('silent');
  const hub = createHub({ store, logger, maxStreams: 10, replayPage: 100 });
  const runtime = { name: 'bun' as const, peer: () => 'test:1', address: () => 'test', keepOpen: () => {} };
  afterAll(() => hub.close());
  return { app: createApp({ config, store, hub, logger, runtime }), store, hub };
}
