import type { Config } from '../lib/config.ts';
import type { Logger } from '../lib/logger.ts';
import { createMemoryStore } from './memory.ts';
import { createRedisStore } from './redis.ts';
import { createSqliteStore } from './sqlite.ts';
import type { Store } from './types.ts';

/** The backend the config names; `logger` hears about backend outages (redis), once per outage. */
export async function createStore(config: Pick<Config, 'store' | 'data' | 'retention' | 'sync'>, logger?: Logger): Promise<Store> {
  if (config.store === 'memory') return createMemoryStore({ retention: config.retention });
  if (config.store === 'sqlite') return createSqliteStore({ dir: config.data, retention: config.retention, sync: config.sync });
  return createRedisStore({ url: config.store, retention: config.retention, logger });
}
