import { serve, type HttpBindings } from '@hono/node-server';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Platform } from './platform.ts';

/** On Node, the `env` a request handler gets is `{ incoming, outgoing }` (@hono/node-server). */
const socket = (env: unknown) => (env as HttpBindings).incoming.socket;

/** How long shutdown waits for responses still being written before it cuts their connections. */
const STOP_GRACE_MS = 3000;

// Bun reads .env by itself; on Node the same file is read here (variables already set win, as on Bun).
if (existsSync('.env')) process.loadEnvFile('.env');

let collector: (() => void) | null = null;
/** V8's gc(), as `node --expose-gc` would give it: turned on at run time, on the first call only (a test hook). */
function exposeGc(): () => void {
  const own = (globalThis as { gc?: () => void }).gc;
  if (own) return own;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** `@hono/node-server` on `node:http`. */
export const nodePlatform: Platform = {
  command: 'node dist/server.js',
  runtime: {
    name: 'node',
    peer: (_req, env) => {
      const s = socket(env);
      return s.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : 'unknown';
    },
    address: (_req, env) => socket(env).remoteAddress ?? 'unknown',
    // node:http has no idle timeout by default (server.timeout = 0); say so for this socket whatever the defaults.
    keepOpen: (_req, env) => void socket(env).setTimeout(0),
    collectGarbage: () => {
      collector ??= exposeGc();
      collector();
      return true;
    },
  },
  serve(fetch, at) {
    return new Promise((resolve, reject) => {
      const server = serve({ fetch, port: at.port, hostname: at.host }, (info) => {
        server.off('error', reject);
        resolve({ port: info.port, stop: () => stop(server as Server) });
      });
      server.once('error', reject);
    });
  },
};

/**
 * Stops accepting, then closes each keep-alive connection as soon as it has no response in flight (streams have
 * had their final event by now; their connections go idle as the last bytes leave), and cuts what is left after
 * the grace period.
 */
function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const cut = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}
