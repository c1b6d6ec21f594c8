import type { Server } from 'bun';
import type { Platform } from './platform.ts';

/** On Bun, the `env` a request handler gets is the server. */
const server = (env: unknown) => env as Server<unknown>;

/** `Bun.serve`. */
export const bunPlatform: Platform = {
  command: 'bun server.ts',
  runtime: {
    name: 'bun',
    peer: (req, env) => {
      const address = server(env).requestIP(req);
      return address ? `${address.address}:${address.port}` : 'unknown';
    },
    address: (req, env) => server(env).requestIP(req)?.address ?? 'unknown',
    // Bun.serve closes a connection after idleTimeout without bytes; a stream is quiet between heartbeats.
    keepOpen: (req, env) => server(env).timeout(req, 0),
    collectGarbage: () => (Bun.gc(true), true),
  },
  async serve(fetch, at) {
    const tls = at.tls ? { tls: { cert: at.tls.cert, key: at.tls.key }, http2: true } : {};
    const listening = Bun.serve({ port: at.port, hostname: at.host, fetch, idleTimeout: 30, ...tls });
    return { port: listening.port ?? at.port, stop: () => listening.stop() };
  },
};
