import type { Config } from '../lib/config.ts';
import type { AppMetrics } from './app-metrics.ts';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/types.ts';
import type { Hub } from '../fanout/hub-api.ts';
import type { Runtime } from '../runtime/platform.ts';

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
