import type { Config } from './config.ts';
import type { AppMetrics } from './lib/app-metrics.ts';
import type { Logger } from './lib/logger.ts';
import type { Store } from './store/types.ts';
import type { Hub } from './workers/hub.ts';

/** What differs between Bun and Node: the peer address, and lifting the idle timeout for a long stream. */
export interface Runtime {
  name: 'bun' | 'node';
  /** `address:port` of the client, for logs. */
  peer(req: Request, env: unknown): string;
  /** The client's IP address, for per-address limits. */
  address(req: Request, env: unknown): string;
  /** Lifts the idle timeout of this request's connection: an SSE stream is quiet between heartbeats. */
  keepOpen(req: Request, env: unknown): void;
  /** Collects the main thread's garbage now, where the runtime allows it (a test hook: POST /debug/gc). */
  collectGarbage?(): boolean;
}

export interface Deps {
  config: Config;
  store: Store;
  hub: Hub;
  logger: Logger;
  runtime: Runtime;
  /** What GET /metrics reports; createApp makes one when none is given. */
  metrics: AppMetrics;
}

/** The Hono environment every route module shares. */
export type AppEnv = { Variables: { deps: Deps } };
