/**
 * threadchat: reads the config, builds the app, serves it (Bun.serve on Bun, @hono/node-server under Node: see
 * runtime/) and shuts down cleanly on SIGINT/SIGTERM.
 */
import './runtime/worker-jit.ts'; // first: may restart the process with JIT options for many Workers
import { ConfigError, helpText, loadConfig, unixSocketOf } from './lib/config.ts';
import { readTlsFiles, type TlsFiles } from './lib/tls-files.ts';
import { readJwtKey } from './lib/jwt-key.ts';
import { createJwtVerifier, type JwtVerifierOptions } from './lib/jwt.ts';
import { createApp } from './app.ts';
import { createAppMetrics } from './middleware/app-metrics.ts';
import { announce, createLogger } from './lib/logger.ts';
import { currentPlatform } from './runtime/current-platform.ts';
import { claimSocketPath, UnixSocketError } from './runtime/unix-socket.ts';
import { isTrusted, parseTrustList } from './lib/ip-address.ts';
import { createStore } from './store/index.ts';
import { StoreStartError } from './store/types.ts';
import { identityStoreOf } from './store/identity-types.ts';
import { instrumentStore } from './store/instrumented.ts';
import { createHub } from './fanout/hub.ts';
import { prepareThreads } from './runtime/thread.ts';
import { ownThreadCount, readSystemLimits } from './runtime/system-limits.ts';
import { spawnGuard, threadBudget } from './runtime/thread-budget.ts';

const platform = await currentPlatform(); // on Node this also reads ./.env, as Bun does by itself

let config: ReturnType<typeof loadConfig>;
let tls: TlsFiles | null;
let jwtKey: JwtVerifierOptions | null = null;
try {
  config = loadConfig(process.argv.slice(2), process.env);
  tls = config.help ? null : readTlsFiles(config);
  // --auth jwt: the key file checked now, so a bad one stops the start (the verifier is made from it: lib/jwt.ts).
  if (!config.help) jwtKey = await readJwtKey(config);
} catch (error) {
  const message = error instanceof ConfigError || error instanceof TypeError ? error.message : String(error);
  process.stderr.write(`threadchat: ${message}\nRun with --help to see every option.\n`);
  process.exit(2);
}
if (config.help) {
  process.stdout.write(helpText(platform.command));
  process.exit(0);
}

const logMode = config.log || (process.stdout.isTTY ? 'pretty' : 'json');
const logger = createLogger(logMode, config['log-level']);
const metrics = createAppMetrics();
// Stream Workers only within the threads and memory left (Bun aborts when a thread cannot start): max-streams may come down.
const budget = threadBudget(readSystemLimits(), platform.runtime.name, config['max-streams']);
await prepareThreads(); // thread entries bundled once: each thread then starts from one script
// One server per data folder (lock), and a folder that cannot be used stops the start with one line, as a bad option does.
const opened = await createStore(config, { logger, lock: true }).catch((error: unknown) => {
  if (!(error instanceof StoreStartError)) throw error;
  process.stderr.write(`threadchat: ${error.message}\n`);
  process.exit(2);
});
const store = instrumentStore(opened, metrics.store);
const hub = createHub({ store, logger, maxStreams: budget.maxStreams, maxStreamsPerIp: config['max-streams-per-ip'], replayPage: 500, metrics: metrics.fanout,
  pool: { minIdle: config.warm, maxIdle: Math.max(64, config.warm), maxWorkers: budget.maxWorkers, canSpawn: spawnGuard(budget, ownThreadCount) },
  maxConnecting: config['max-connecting'] });

const jwt = jwtKey ? createJwtVerifier(jwtKey) : undefined;
// A sign-out, a deleted account or changed rights, here, on another instance or by `bun run user`: its streams end.
const stopRevoking = identityStoreOf(store)?.onIdentityChange((change) => hub.revoke(change.subject, change.session));
const app = createApp({ config, store, hub, logger, runtime: platform.runtime, metrics, jwt });
const socket = unixSocketOf(config.listen);
// A unix socket's file outlives a killed server: a stale one is removed, a live one (another server) stops this start.
if (socket) {
  await claimSocketPath(socket).catch((error: unknown) => {
    if (!(error instanceof UnixSocketError)) throw error;
    process.stderr.write(`threadchat: ${error.message}\n`);
    process.exit(2);
  });
  if (!isTrusted('127.0.0.1', parseTrustList(config['trust-proxy']))) {
    logger.warn(`listening on a unix socket without --trust-proxy 127.0.0.1: every client counts as one address, the proxy's (per-address limits and quotas are shared); add it to believe the proxy's X-Forwarded-For`);
  }
}
const where = socket ? `unix:${socket}` : `${config.host}:${config.port}`;
const server = await platform.serve(app.fetch, { port: config.port, host: config.host, tls, unix: socket }).catch((error: unknown) => {
  process.stderr.write(`threadchat: cannot listen on ${where}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
const url = socket ? `unix:${socket}` : `${tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${server.port}/`;
announce(logMode, `threadchat listening on ${url}${budget.lowered ? ` (${budget.lowered})` : ''}`, { store: store.kind, runtime: platform.runtime.name });

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info(`${signal}: shutting down`);
  stopRevoking?.();
  await hub.close(); // every stream gets a final `bye` event
  await server.stop(); // waits for in-flight requests
  await store.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
