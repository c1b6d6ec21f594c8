import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './app-env.ts';
import { unixSocketOf, type Config } from '../lib/config.ts';
import type { Logger } from '../lib/logger.ts';
import { fail } from '../lib/errors.ts';
import { isLoopbackHost, isLoopbackName, parsePublicUrls } from '../lib/public-url.ts';

/**
 * The `Host` check, against DNS rebinding: a site whose name an attacker points at 127.0.0.1 is, to the browser,
 * the attacker's own origin, so its scripts read and post here freely and no Origin check sees anything foreign.
 * Only the Host header gives it away. Answered: loopback names (127.0.0.0/8, localhost, [::1], any port) and the
 * host names of --public-url (any port: a proxy may pass `Host` with the port or without). Anything else gets 421.
 *
 * Bound to an address others can reach without --public-url, the server cannot know its names: it answers any
 * Host and says so once at start. GET /healthz answers any Host: a load balancer probes it by address, and it
 * tells nothing but counts.
 */
export function hostName(config: Config, logger: Logger) {
  const { hostnames } = parsePublicUrls(config['public-url']); // checked by loadConfig already
  // On a unix socket --host is not listened on: only this machine's processes (the proxy) connect, as on loopback.
  if (hostnames.size === 0 && !isLoopbackHost(config.host) && unixSocketOf(config.listen) === null) {
    logger.warn(`listening on ${config.host} without --public-url: every Host name is answered, so a page whose name points at this server (DNS rebinding) can use it as its own; give the URLs people use with --public-url`);
    return createMiddleware<AppEnv>((_c, next) => next());
  }
  const known = hostnames.size ? `${[...hostnames].join(', ')} and loopback names` : 'loopback names only (127.0.0.1, localhost, [::1]): it was started without --public-url';
  return createMiddleware<AppEnv>(async (c, next) => {
    const hostname = new URL(c.req.url).hostname; // the Host header (or HTTP/2 :authority), as both runtimes parse it
    if (isLoopbackName(hostname) || hostnames.has(hostname)) return next();
    if (c.req.path === '/healthz' && (c.req.method === 'GET' || c.req.method === 'HEAD')) return next();
    fail(421, `this server does not answer to the name "${hostname}": it answers to ${known}; if people reach it by that name, add it with --public-url (e.g. --public-url https://${hostname})`);
  });
}
