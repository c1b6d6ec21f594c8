import type { Config } from '../lib/config.ts';
import type { Logger } from '../lib/logger.ts';
import { createMemoryStore } from './memory.ts';
import { createRedisStore } from './redis.ts';
import { createSqliteStore } from './sqlite.ts';
import type { Store } from './types.ts';
import type { StandaloneIdentity } from './identity-types.ts';
import { createRedisIdentity } from './redis-identity.ts';
import { createSqliteIdentity } from './sqlite-identity.ts';

export interface StoreOpening {
  /** Hears about backend outages: redis once per outage, SQLite write failures once a minute per kind. */
  logger?: Logger;
  /** A server's store: SQLite takes the data folder's one-server lock (a second server there gets StoreStartError). */
  lock?: boolean;
}

/** The backend the config names. A setup it cannot start on throws StoreStartError (one line: the server exits 2). */
export async function createStore(config: Pick<Config, 'store' | 'data' | 'retention' | 'sync'>, opening: StoreOpening = {}): Promise<Store> {
  const { logger, lock } = opening;
  if (config.store === 'memory') return createMemoryStore({ retention: config.retention });
  if (config.store === 'sqlite') return createSqliteStore({ dir: config.data, retention: config.retention, sync: config.sync, lock, logger });
  return createRedisStore({ url: config.store, retention: config.retention, logger });
}

/**
 * Only the identity part of the configured store (`bun run user`, beside servers that run on the same store): a
 * SQLite connection of its own on the data folder's file, or one Redis connection. A memory store has nothing
 * another process could reach.
 */
export async function openIdentityStore(config: Pick<Config, 'store' | 'data'>, logger?: Logger): Promise<StandaloneIdentity> {
  if (config.store === 'memory') {
    throw new Error('accounts need a store another process can reach (sqlite or redis): a memory store lives and dies with its server');
  }
  if (config.store === 'sqlite') return createSqliteIdentity({ dir: config.data, logger });
  return createRedisIdentity({ url: config.store, logger });
}
