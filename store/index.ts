import type { Config } from '../config.ts';
import { createMemoryStore } from './memory.ts';
import { createSqliteStore } from './sqlite.ts';
import type { Store } from './types.ts';

/** The backend the config names. */
export async function createStore(config: Pick<Config, 'store' | 'data' | 'retention'>): Promise<Store> {
  if (config.store === 'memory') return createMemoryStore({ retention: config.retention });
  if (config.store === 'sqlite') return createSqliteStore({ dir: config.data, retention: config.retention });
  throw new Error(`store ${config.store} is not available yet`);
}
