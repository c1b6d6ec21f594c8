import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './app-env.ts';
import { resolveClient } from '../lib/client-address.ts';
import { parseTrustList } from '../lib/ip-address.ts';
import type { Runtime } from '../runtime/platform.ts';

/**
 * Works out who sent the request once, before anything else runs, and keeps it as `c.get('client')`: the
 * client's address (from a trusted proxy's X-Forwarded-For or Forwarded when the peer is in --trust-proxy, else
 * the peer's), whether it came over https, and a peer for logs that names the proxy too.
 *
 * `unixSocket`: the server listens on a unix socket (--listen unix:PATH), whose peers have no address. Only
 * processes of this machine that the socket's mode lets in can connect (the reverse proxy), so each counts as
 * 127.0.0.1: `--trust-proxy 127.0.0.1` then believes the proxy's X-Forwarded-For, as it would over loopback TCP.
 */
export function clientAddress(trustProxy: string, runtime: Runtime, unixSocket = false) {
  const trust = parseTrustList(trustProxy); // checked by loadConfig already
  return createMiddleware<AppEnv>(async (c, next) => {
    const socket = unixSocket ? 'unix' : runtime.peer(c.req.raw, c.env);
    const peerAddress = unixSocket ? '127.0.0.1' : runtime.address(c.req.raw, c.env);
    const found = resolveClient(c.req.url, peerAddress, c.req.raw.headers, trust);
    c.set('client', {
      address: found.address,
      https: found.https,
      via: found.forwarded ? socket : null,
      peer: found.forwarded && found.address !== found.peer ? `${found.address} via ${socket}` : socket,
    });
    await next();
  });
}
