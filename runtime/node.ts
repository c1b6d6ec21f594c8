import { createAdaptorServer, serve, type HttpBindings } from '@hono/node-server';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Platform } from './platform.ts';
import { listenOnSocket } from './unix-socket.ts';

/** On Node, the `env` a request handler gets is `{ incoming, outgoing }` (@hono/node-server). */
const socket = (env: unknown) => (env as HttpBindings).incoming.socket;
/** An HTTP/2 request (over --tls-cert): its socket is its session's, shared by every stream of the connection. */
const http2Request = (env: unknown) => {
  const incoming = (env as HttpBindings).incoming as unknown as Http2ServerRequest | { stream?: undefined };
  return incoming.stream ? (incoming as Http2ServerRequest) : null;
};

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
    // Over HTTP/2 the timeout is the stream's own; the session's socket is shared by the other streams.
    keepOpen: (_req, env) => void (http2Request(env)?.setTimeout(0) ?? socket(env).setTimeout(0)),
    collectGarbage: () => {
      collector ??= exposeGc();
      collector();
      return true;
    },
  },
  serve(fetch, at) {
    const unix = at.unix;
    if (unix) {
      // Plain HTTP to a proxy on this machine (loadConfig refuses TLS here). node:net binds a path within
      // listen() (the primary process, no cluster), and close() removes the socket file.
      return new Promise((resolve, reject) => {
        const server = createAdaptorServer({ fetch }) as Server;
        server.once('error', reject);
        listenOnSocket(unix, () => server.listen(unix, () => {
          server.off('error', reject);
          resolve({ port: 0, stop: () => stop(server) });
        }));
      });
    }
    return new Promise((resolve, reject) => {
      const tls = at.tls;
      const options = tls
        ? { createServer: createSecureServer, serverOptions: { cert: tls.cert, key: tls.key, allowHTTP1: true } }
        : {};
      const server = serve({ fetch, port: at.port, hostname: at.host, ...options }, (info) => {
        server.off('error', reject);
        resolve({ port: info.port, stop: () => (tls ? stopSecure(server as Http2SecureServer, connections) : stop(server as Server)) });
      });
      // node:http2 has no closeIdleConnections(): its sessions and HTTP/1.1 sockets are tracked for the stop.
      const connections = { sessions: new Set<Http2Session>(), sockets: new Set<Socket>() };
      if (tls) {
        server.on('session', (session: Http2Session) => {
          connections.sessions.add(session);
          session.once('close', () => connections.sessions.delete(session));
        });
        server.on('secureConnection', (s: Socket) => {
          connections.sockets.add(s);
          s.once('close', () => connections.sockets.delete(s));
        });
      }
      server.once('error', reject);
    });
  },
};

/**
 * The stop of the HTTPS server: HTTP/2 sessions are closed gracefully (a GOAWAY: the responses in flight end, no
 * new stream starts), and whatever is still open after the grace period (HTTP/1.1 keep-alive sockets too) is cut.
 */
function stopSecure(server: Http2SecureServer, open: { sessions: Set<Http2Session>; sockets: Set<Socket> }): Promise<void> {
  return new Promise((resolve) => {
    const cut = setTimeout(() => {
      for (const session of open.sessions) session.destroy();
      for (const s of open.sockets) s.destroy();
    }, STOP_GRACE_MS);
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    for (const session of open.sessions) session.close();
  });
}

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
