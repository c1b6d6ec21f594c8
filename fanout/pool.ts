import type { MainToWorker, WorkerInit, WorkerToMain } from './shm/protocol.ts';
import { spawnThread, type Thread } from '../runtime/thread.ts';

/** A stream Worker: a web Worker on Bun, a worker_threads Worker on Node (runtime/thread.ts). */
export type StreamThread = Thread<MainToWorker, WorkerToMain>;

/** The messages of a Worker that are about its stream; `ready` and `released` are the pool's own. */
export type StreamMessage = Exclude<WorkerToMain, { type: 'ready' } | { type: 'released' }>;

/** Whoever borrowed a Worker for a stream: the pool hands it the Worker's stream messages and errors. */
export interface Borrower {
  message(message: StreamMessage): void;
  error(error: Error): void;
}

/** A Worker lent out for one stream, until recycle() or discard(). */
export interface LentWorker {
  post(message: MainToWorker): void;
}

/** How long a Worker may take to let go of its stream before it is terminated instead of pooled. */
const RELEASE_TIMEOUT_MS = 5000;

export interface PoolOptions {
  init: WorkerInit;
  /** Idle Workers kept ready at the least. */
  minIdle: number;
  /** Idle Workers kept at the most; a Worker released past it exits. */
  maxIdle: number;
  /**
   * Workers alive at once at the most (serving, idle, starting, coming back): the process's thread and memory
   * budget (runtime/thread-budget.ts). Past it a stream finds no Worker and is refused (acquire throws: a 503).
   */
  maxWorkers?: number;
  /** Asked before each spawn: false when the process has no thread to spare now (runtime/thread-budget.ts spawnGuard). */
  canSpawn?: () => boolean;
  /** A background spawn failed (out of threads or memory); called once per outage, and again once it ends. */
  onSpawnTrouble?: (error: Error | null) => void;
}

/** How long the pool waits before it tries to spawn again after a spawn failed. */
const SPAWN_RETRY_MS = 1000;

/** One Worker of the pool, and who its messages go to now. */
interface Pooled extends LentWorker {
  thread: StreamThread;
  /** Serving a stream: gets the Worker's stream messages and errors. */
  borrower: Borrower | null;
  /** Coming back from a stream: called once, true when it said `released`, false when it failed. */
  returned: ((reuse: boolean) => void) | null;
}

/**
 * Pre-spawned stream Workers, so a new stream never waits for a thread to start and load its code. Workers whose
 * stream ended come back and serve the next one, so steady connect/disconnect churn spawns nothing. The idle
 * target follows the connect rate (streams opened in the last second, within [minIdle, maxIdle]): the pool
 * tops up when it runs below half the target, and sheds what the target no longer needs, slowly.
 *
 * The pool sets each thread's handlers once, when it spawns it, and nobody else does: a message goes to the pool
 * (`ready`, `released`) or to the Worker's borrower of the moment.
 */
export function createWorkerPool(options: PoolOptions) {
  const idle: Pooled[] = []; // loaded and rehearsed: they said `ready`
  const starting = new Set<Pooled>(); // spawned, not ready yet
  const recent: number[] = []; // acquire times of the last second
  let alive = 0;
  let returning = 0; // told to let go of their stream, expected back shortly
  let closed = false;
  let refilling = false;
  let failing = false; // the last background spawn failed: retried every SPAWN_RETRY_MS

  const maxWorkers = options.maxWorkers ?? Infinity;
  /** Whether one more thread may be asked for. Never ask past it: Bun aborts the process when a thread cannot start. */
  const room = () => alive < maxWorkers && (options.canSpawn?.() ?? true);

  const spawn = (): Pooled => {
    if (!room()) throw new Error(`no thread to spare: ${alive} stream Workers alive, ${maxWorkers} at the most`);
    const thread = spawnThread<MainToWorker, WorkerToMain>('workers/stream-worker', {
      smol: true,
      onExit: () => {
        alive--;
        starting.delete(worker);
      },
    });
    const worker: Pooled = { thread, borrower: null, returned: null, post: (message) => thread.postMessage(message) };
    alive++;
    starting.add(worker);
    thread.onmessage = (message) => {
      switch (message.type) {
        case 'ready':
          // A Worker taken while it was starting is no longer in `starting`: it serves its stream already.
          if (starting.delete(worker) && !closed) idle.push(worker);
          break;
        case 'released':
          // The answer to `close` (recycle). A Worker that ends its stream itself sends `ended` first, and its
          // borrower recycles (or discards) it before this arrives.
          worker.returned?.(true);
          break;
        default:
          worker.borrower?.message(message);
      }
    };
    // Coming back, an error ends the return (the Worker is terminated, not pooled); serving a stream, the borrower
    // hears of it; starting or idle, nobody does.
    thread.onerror = (error) => (worker.returned ? worker.returned(false) : worker.borrower?.error(error));
    thread.postMessage({ type: 'init', init: options.init } satisfies MainToWorker);
    return worker;
  };
  /** A Worker for a stream now: a ready one, else one still starting (its messages wait for it), else a new one. */
  const take = () => {
    const ready = idle.pop();
    if (ready) return ready;
    for (const worker of starting) {
      starting.delete(worker);
      return worker;
    }
    const fresh = spawn();
    starting.delete(fresh);
    return fresh;
  };
  const target = () => {
    const now = Date.now();
    while (recent.length && recent[0]! < now - 1000) recent.shift();
    return Math.min(options.maxIdle, Math.max(options.minIdle, recent.length));
  };

  /**
   * Tops the idle set up to the target in the background, a few spawns per turn so requests keep flowing. A spawn
   * that fails (the process is out of threads or memory) must not take the server down: the pool tries again a
   * second later, and meanwhile streams that find no idle Worker are refused (acquire throws: a 503).
   */
  const refill = () => {
    if (refilling || closed) return;
    refilling = true;
    setTimeout(() => {
      refilling = false;
      if (closed) return;
      let spawned = 0;
      try {
        // At maxWorkers this is no outage: the pool holds what it may. A guard that says no (canSpawn) is one.
        for (; spawned < 4 && idle.length + starting.size + returning < target() && alive < maxWorkers; spawned++) spawn();
      } catch (error) {
        if (!failing) options.onSpawnTrouble?.(error instanceof Error ? error : new Error(String(error)));
        failing = true;
        refilling = true;
        setTimeout(() => {
          refilling = false;
          refill();
        }, SPAWN_RETRY_MS).unref?.();
        return;
      }
      if (failing && spawned > 0) {
        failing = false; // a thread started: the outage is over
        options.onSpawnTrouble?.(null);
      }
      if (spawned > 0 && idle.length + starting.size + returning < target()) refill();
    }, 0);
  };
  refill();

  // Shed idle Workers the connect rate no longer calls for, a few every few seconds.
  const shrink = setInterval(() => {
    for (let i = 0; i < 4 && idle.length > target(); i++) idle.shift()!.thread.terminate();
  }, 5000);
  shrink.unref?.();

  return {
    /** A Worker for a stream; its stream messages go to `borrower` until recycle() or discard(). Throws when no thread can start. */
    acquire(borrower: Borrower): LentWorker {
      recent.push(Date.now());
      const worker = take();
      worker.borrower = borrower;
      // Workers on their way back count as supply: steady churn is served by reuse, not by spawning.
      if (idle.length + starting.size + returning < Math.max(2, target() / 2)) refill();
      return worker;
    },
    /**
     * Ends the Worker's stream and takes it back once it says it let go: to the idle set, or gone when there are
     * enough. A Worker that does not answer in time is terminated.
     */
    recycle(lent: LentWorker) {
      const worker = lent as Pooled;
      worker.borrower = null;
      returning++;
      const timer = setTimeout(() => worker.returned?.(false), RELEASE_TIMEOUT_MS);
      worker.returned = (reuse) => {
        clearTimeout(timer);
        returning--;
        worker.returned = null;
        if (reuse && !closed && idle.length < options.maxIdle) idle.push(worker);
        else worker.thread.terminate();
      };
      worker.post({ type: 'close' });
    },
    /** A Worker that failed or did not let go: it exits. */
    discard(lent: LentWorker) {
      const worker = lent as Pooled;
      worker.borrower = null;
      worker.thread.terminate();
    },
    stats: () => ({ threads: alive, idle: idle.length, starting: starting.size, returning }),
    close() {
      closed = true;
      clearInterval(shrink);
      for (const worker of idle.splice(0)) worker.thread.terminate();
      for (const worker of starting) worker.thread.terminate();
      starting.clear();
    },
  };
}

export type WorkerPool = ReturnType<typeof createWorkerPool>;
