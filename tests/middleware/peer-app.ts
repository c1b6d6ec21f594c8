import { Hono } from 'hono';
import { clientAddress } from '../../middleware/client-address.ts';
import type { Config } from '../../lib/config.ts';
import type { AppEnv, Deps } from '../../middleware/app-env.ts';
import type { Runtime } from '../../runtime/platform.ts';

/**
 * A Hono app with the deps and the real client-address middleware (nothing trusted: the address is the peer's,
 * https comes from the URL), whose peer is whatever the test sets in `peer.address` for the next request.
 */
export function appWithPeer(config: Config) {
  const peer = { address: '10.0.0.1' };
  const runtime = { address: () => peer.address, peer: () => `${peer.address}:1` } as unknown as Runtime;
  const deps = { config, runtime } as unknown as Deps;
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.use(clientAddress('', runtime));
  return { app, peer };
}
