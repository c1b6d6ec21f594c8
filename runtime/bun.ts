import type { Server } from 'bun';
import type { Platform } from './platform.ts';
import { listenOnSocket } from './unix-socket.ts';

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
    const unix = at.unix;
    if (unix) {
      // Plain HTTP to a proxy on this machine (loadConfig refuses TLS here). Bun binds within Bun.serve, and its
      // stop() removes the socket file. Bun's types offer idleTimeout for a port only, but Bun 1.4.5 applies it to
      // a socket too (an idle connection was seen closed after it): the proxy's keepalive_timeout relies on it.
      const options = { unix, fetch, idleTimeout: 30 } as unknown as Bun.Serve.Options<undefined>;
      const listening = listenOnSocket(unix, () => Bun.serve(options));
      return { port: 0, stop: () => listening.stop() };
    }
    const listening = Bun.serve({ port: at.port, hostname: at.host, fetch, idleTimeout: 30, ...tls });
    return { port: listening.port ?? at.port, stop: () => listening.stop() };
  },
};
