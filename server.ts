/**
 * threadchat: reads the config, builds the app, serves it (Bun.serve, or @hono/node-server under Node) and shuts
 * down cleanly on SIGINT/SIGTERM.
 */
import { ConfigError, helpText, loadConfig } from './config.ts';
import { createApp } from './app.ts';
import type { Runtime } from './app-env.ts';
import { createLogger } from './lib/logger.ts';
import { createStore } from './store/index.ts';
import { createHub } from './workers/hub.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.argv.slice(2), process.env);
} catch (error) {
  const message = error instanceof ConfigError || error instanceof TypeError ? error.message : String(error);
  process.stderr.write(`threadchat: ${message}\nRun with --help to see every option.\n`);
  process.exit(2);
}
if (config.help) {
  process.stdout.write(helpText());
  process.exit(0);
}

const logger = createLogger(config.log === 'pretty' || config.log === 'json' || config.log === 'silent' ? config.log : process.stdout.isTTY ? 'pretty' : 'json');
const store = await createStore(config, logger);
const hub = createHub({ store, logger, maxStreams: config['max-streams'], maxStreamsPerIp: config['max-streams-per-ip'], replayPage: 500 });

const bunRuntime: Runtime = {
  name: 'bun',
  peer: (req, server) => {
    const address = (server as import('bun').Server<unknown>).requestIP(req);
    return address ? `${address.address}:${address.port}` : 'unknown';
  },
  address: (req, server) => (server as import('bun').Server<unknown>).requestIP(req)?.address ?? 'unknown',
  // Bun.serve closes a connection after idleTimeout without bytes; a stream is quiet between heartbeats.
  keepOpen: (req, server) => (server as import('bun').Server<unknown>).timeout(req, 0),
};

const app = createApp({ config, store, hub, logger, runtime: bunRuntime });
const server = Bun.serve({ port: config.port, hostname: config.host, fetch: app.fetch, idleTimeout: 30 });
const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${server.port}/`;
process.stdout.write(`threadchat listening on ${url} (store ${store.kind})\n`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info(`${signal}: shutting down`);
  await hub.close(); // every stream gets a final `bye` event
  await server.stop(); // waits for in-flight requests
  await store.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
