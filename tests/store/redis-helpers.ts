/** Redis for tests: unique key prefixes on the shared server, and private servers on free ports to kill. */
import Redis from 'ioredis';
import { connect, createServer, type Socket } from 'node:net';
import type { Logger } from '../../lib/logger.ts';
import { tempDir, waitFor } from '../helpers.ts';

/** The shared Redis every test may use with its own keys (`npm test` starts it when missing). */
export const SHARED_REDIS = 'redis://127.0.0.1:6379';
/** Database numbers of the redis tests on the shared server (keys carry unique prefixes too). */
export const DB = { conformance: 11, store: 12, e2e: 13 } as const;

let counter = 0;
/** A key prefix no other test (or run) uses. */
export const uniquePrefix = (label: string) => `tc-test:${label}:${process.pid}-${Date.now().toString(36)}-${counter++}:`;

/** The store URL for `db` on `base` with a key prefix and optional query parameters. */
export const storeUrl = (base: string, db: number, prefix: string, query: Record<string, string> = {}) =>
  `${base}/${db}?${new URLSearchParams({ prefix, ...query })}`;

/** Deletes every key under `prefix` in `db` (tests clean up what they created). */
export async function deleteKeys(base: string, db: number, prefix: string) {
  const redis = new Redis(`${base}/${db}`, { lazyConnect: true, maxRetriesPerRequest: 0 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A logger that keeps what it was told (what a store reports about Redis, and about other instances). */
export const captureLog = () => {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (m: string) => void lines.push({ level, msg: m });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
};

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const answers = async (port: number) => {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
};

export interface PrivateRedis {
  port: number;
  url: string;
  pid(): number;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same data directory. */
  start(): Promise<void>;
  /** Kills it and removes its data. */
  remove(): Promise<void>;
}

/**
 * A redis-server of this test's own on a free port. Its append-only file is fsynced on every write, so a kill -9
 * and a restart keep every write Redis acknowledged: what an outage test needs to check "no acknowledged loss".
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = tempDir('threadchat-redis-');
  let proc: ReturnType<typeof Bun.spawn> | null = null;
  const start = async () => {
    proc = Bun.spawn(
      ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir.path],
      { stdout: 'ignore', stderr: 'ignore' },
    );
    await waitFor(async () => {
      if (proc?.exitCode !== null) throw new Error(`redis-server on ${port} exited with ${proc?.exitCode}`);
      return answers(port);
    }, `redis-server on port ${port}`);
  };
  const kill = async () => {
    if (!proc || proc.exitCode !== null) return;
    proc.kill('SIGKILL');
    await proc.exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => proc?.pid ?? -1,
    kill,
    start,
    async remove() {
      await kill();
      dir.remove();
    },
  };
}

export interface Partition {
  /** The port to connect to instead of Redis's. */
  port: number;
  /** Drops every connection through it and refuses new ones: a network partition. */
  cut(): void;
  /** Lets connections through again. */
  heal(): void;
  close(): Promise<void>;
}

/** A TCP relay to a Redis port that a test can cut: one instance loses Redis while the others keep it. */
export async function startPartition(targetPort: number): Promise<Partition> {
  let open = true;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    const end = () => {
      for (const s of [client, upstream]) {
        s.destroy();
        sockets.delete(s);
      }
    };
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', end);
      s.on('close', end);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('the relay has no port');
  const cut = () => {
    open = false;
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    port: address.port,
    cut,
    heal: () => void (open = true),
    async close() {
      cut();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
