import { afterAll } from 'bun:test';
import { createApp } from '../../app.ts';
import { loadConfig } from '../../lib/config.ts';
import { createLogger } from '../../lib/logger.ts';
import { createMemoryStore } from '../../store/memory.ts';
import { createHub } from '../../fanout/hub.ts';

/**
 * The whole app in process over a memory store and a real hub (closed after the file's tests), with `argv` as
 * the server's flags. `peer.address` is the address the runtime reports for the next request.
 */
export function memoryApp(argv: string[] = []) {
  const config = loadConfig(['--store', 'memory', ...argv], {});
  const store = createMemoryStore();
  const logger = createLogger('silent');
  const hub = createHub({ store, logger, maxStreams: 10, replayPage: 100 });
  const peer = { address: '10.0.0.1' };
  const runtime = { name: 'bun' as const, peer: () => `${peer.address}:1`, address: () => peer.address, keepOpen: () => {} };
  afterAll(() => hub.close());
  return { app: createApp({ config, store, hub, logger, runtime }), store, hub, peer };
}
