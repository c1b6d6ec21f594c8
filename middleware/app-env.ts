import type { Config } from '../lib/config.ts';
import type { AppMetrics } from './app-metrics.ts';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/types.ts';
import type { IdentityStore } from '../store/identity-types.ts';
import type { Who } from '../lib/identity.ts';
import type { JwtCheck } from '../lib/jwt.ts';
import type { Hub } from '../fanout/hub-api.ts';
import type { Runtime } from '../runtime/platform.ts';
import type { PeopleDirectory } from './people.ts';

export interface Deps {
  config: Config;
  store: Store;
  /** The store's accounts, tokens and sessions (every store has them; undefined only for a store without). */
  identity?: IdentityStore;
  hub: Hub;
  /** jwt mode: what a JWT becomes (lib/jwt.ts), made at start from --jwt-key and --jwt-alg. */
  jwt?: JwtCheck;
  logger: Logger;
  runtime: Runtime;
  /** The names behind person keys (direct rooms); createApp makes it. */
  people: PeopleDirectory;
  /** What GET /metrics reports; createApp makes one when none is given. */
  metrics: AppMetrics;
}

/** Who sent a request, worked out once by middleware/client-address.ts (the first middleware). */
export interface ClientInfo {
  /** The client's IP address (canonical: IPv4-mapped IPv6 as IPv4): the peer's, or a trusted proxy's word for it. What per-address limits count. */
  address: string;
  /** For logs: the peer's `address:port`, or `client via proxy:port` when a trusted proxy forwarded the request. */
  peer: string;
  /** The client used https: the request URL is https:, or a trusted proxy says so (X-Forwarded-Proto, Forwarded proto=). */
  https: boolean;
  /** The proxy's `address:port` when the address came from its header, else null. */
  via: string | null;
}

/** The Hono environment every route module shares. */
export type AppEnv = { Variables: { deps: Deps; client: ClientInfo; who: Who } };
