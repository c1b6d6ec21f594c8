/**
 * How many stream Workers this process may have alive at once: few enough that every thread it asks for can be
 * created, and that their memory fits. It must never ask for one too many: Bun 1.4.5 aborts the whole process
 * (`panic: abort() called`, exit 134) when a Worker's thread cannot be created, and no handler can catch that.
 * This file is the arithmetic (limits in, budget out); runtime/system-limits.ts reads the limits from /proc.
 */

const MB = 1024 * 1024;

/** The runtimes a budget knows the costs of. */
export type BudgetRuntime = 'bun' | 'node';

/**
 * What one stream costs in memory: RSS per stream at N=1000 in `bun run bench` (docs/bench.md), on Bun and in the
 * same bench against `node dist/server.js`, on the 2-core, 24 GB machine docs/bench.md was measured on. A pooled
 * Worker that serves nobody costs nearly as much, so every Worker alive is counted at this price.
 */
export const STREAM_BYTES: Readonly<Record<BudgetRuntime, number>> = { bun: 2.3 * MB, node: 9.1 * MB };

/**
 * Threads the runtime runs besides the stream Workers, with a margin. Counted in /proc/PID/task on that machine
 * with the SQLite writer running and 60 streams under load: Bun 17 to 20 (main, 2 "Bun Pool", bundler, JIT
 * warm-up, GC helper and scavenger, a signal sender, the SQLite writer, and JavaScriptCore's collector threads),
 * Node 12 (main, 4 V8 platform threads, 4 libuv threads, the SQLite writer, and 2 more of its own).
 */
export const OWN_THREADS: Readonly<Record<BudgetRuntime, number>> = { bun: 24, node: 20 };

/**
 * OS threads per stream Worker. Node: one. Bun: one, and each Worker's heap starts a collector thread of its own
 * while it collects, which exits a while later: at most 15 at once among 200 Workers under load (7.5%) on that
 * machine, so one in eight is budgeted.
 */
export const THREADS_PER_WORKER: Readonly<Record<BudgetRuntime, number>> = { bun: 1.125, node: 1 };

/** The share of the memory available that stream Workers may take; the rest is the main thread's (log, heap, sockets) and the system's. */
export const MEMORY_SHARE = 0.7;

/**
 * Threads this process must leave free when it is about to spawn a Worker (the guard before each spawn): room for
 * the runtime's threads that start later, whatever the count of Workers.
 */
export const SPARE_THREADS = 8;

/** A limit on threads this process counts against: at most `max` tasks, `used` of them taken now (ours included). */
export interface ThreadLimit {
  name: string;
  max: number;
  used: number;
}

/** Memory this process may still take under one limit (MemAvailable, a cgroup's memory.max less its use). */
export interface MemoryLimit {
  name: string;
  available: number;
}

export interface SystemLimits {
  /** Every thread limit that applies to this process (RLIMIT_NPROC only when it is not exempt). */
  threads: ThreadLimit[];
  memory: MemoryLimit[];
  /** This process's threads when the limits were read: they are in every `used`, and the budget counts them itself. */
  ownThreads: number;
}

export interface ThreadBudget {
  /** The --max-streams to run with: the one asked for, or lower when the machine has not room for it. */
  maxStreams: number;
  /** Stream Workers alive at once (serving, idle, starting, coming back): the pool never spawns past it. */
  maxWorkers: number;
  /** The most threads this process may have; a spawn waits while it has `processThreads - SPARE_THREADS` or more. Infinity without a thread limit. */
  processThreads: number;
  /** Why max-streams was lowered, as the start line says it; null when it was not. */
  lowered: string | null;
}

const gb = (bytes: number) => `${(bytes / 1024 / MB).toFixed(1)} GB`;

/** The Workers each limit allows, and the smallest of them; `requested` is --max-streams. */
export function threadBudget(limits: SystemLimits, runtime: BudgetRuntime, requested: number): ThreadBudget {
  let maxWorkers = Infinity;
  let processThreads = Infinity;
  let because = '';
  for (const limit of limits.threads) {
    // Threads left for this process: what the others of the limit leave, ours given back.
    const left = Math.max(0, limit.max - (limit.used - limits.ownThreads));
    const workers = Math.max(0, Math.floor((left - OWN_THREADS[runtime]) / THREADS_PER_WORKER[runtime]));
    processThreads = Math.min(processThreads, left);
    if (workers < maxWorkers) {
      maxWorkers = workers;
      because = `${left} threads left under ${limit.name}, ${OWN_THREADS[runtime]} of them kept for ${runtime}'s own`;
    }
  }
  for (const limit of limits.memory) {
    const workers = Math.max(0, Math.floor((limit.available * MEMORY_SHARE) / STREAM_BYTES[runtime]));
    if (workers < maxWorkers) {
      maxWorkers = workers;
      because = `${Math.round(MEMORY_SHARE * 100)}% of ${gb(limit.available)} of ${limit.name}, at ${STREAM_BYTES[runtime] / MB} MB per stream on ${runtime}`;
    }
  }
  const maxStreams = Math.min(requested, maxWorkers);
  return {
    maxStreams,
    maxWorkers: Math.min(maxWorkers, Number.MAX_SAFE_INTEGER),
    processThreads,
    lowered: maxStreams < requested ? `max-streams lowered from ${requested} to ${maxStreams}: ${because}` : null,
  };
}

/**
 * The check before each spawn, besides the pool's count of Workers: true while this process has more than
 * SPARE_THREADS threads left under its budget, counted now (`threadsNow`: null where it cannot be counted).
 * It catches threads the runtime started beyond what OWN_THREADS and THREADS_PER_WORKER allow for.
 */
export function spawnGuard(budget: ThreadBudget, threadsNow: () => number | null): () => boolean {
  if (!Number.isFinite(budget.processThreads)) return () => true;
  const ceiling = budget.processThreads - SPARE_THREADS;
  return () => (threadsNow() ?? 0) < ceiling;
}
