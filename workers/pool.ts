import type { MainToWorker, WorkerInit, WorkerToMain } from './protocol.ts';
import { spawnThread, type Thread } from './thread.ts';

/** A stream Worker: a web Worker on Bun, a worker_threads Worker on Node (workers/thread.ts). */
export type StreamThread = Thread<MainToWorker, WorkerToMain>;

/** How long a Worker may take to let go of its stream before it is terminated instead of pooled. */
const RELEASE_TIMEOUT_MS = 5000;

export interface PoolOptions {
  init: WorkerInit;
  /** Idle Workers kept ready at the least. */
  minIdle: number;
  /** Idle Workers kept at the most; a Worker released past it exits. */
  maxIdle: number;
}

/**
 * Pre-spawned stream Workers, so a new stream never waits for a thread to start and load its code. Workers whose
 * stream ended come back and serve the next one, so steady connect/disconnect churn spawns nothing. The idle
 * target follows the connect rate (streams opened in the last second, within [minIdle, maxIdle]): the pool
 * tops up when it runs below half the target, and sheds what the target no longer needs, slowly.
 */
export function createWorkerPool(options: PoolOptions) {
  const idle: StreamThread[] = [];
  const recent: number[] = []; // acquire times of the last second
  let alive = 0;
  let returning = 0; // told to let go of their stream, expected back shortly
  let closed = false;
  let refilling = false;

  const spawn = () => {
    const worker = spawnThread<MainToWorker, WorkerToMain>('workers/stream-worker', { smol: true, onExit: () => alive-- });
    alive++;
    worker.postMessage({ type: 'init', init: options.init } satisfies MainToWorker);
    return worker;
  };

  const target = () => {
    const now = Date.now();
    while (recent.length && recent[0]! < now - 1000) recent.shift();
    return Math.min(options.maxIdle, Math.max(options.minIdle, recent.length));
  };

  /** Tops the idle set up to the target in the background, a few spawns per turn so requests keep flowing. */
  const refill = () => {
    if (refilling || closed) return;
    refilling = true;
    setTimeout(() => {
      refilling = false;
      if (closed) return;
      for (let i = 0; i < 4 && idle.length + returning < target(); i++) idle.push(spawn());
      if (idle.length + returning < target()) refill();
    }, 0);
  };
  refill();

  // Shed idle Workers the connect rate no longer calls for, a few every few seconds.
  const shrink = setInterval(() => {
    for (let i = 0; i < 4 && idle.length > target(); i++) idle.shift()!.terminate();
  }, 5000);
  shrink.unref?.();

  return {
    acquire(): StreamThread {
      recent.push(Date.now());
      const worker = idle.pop() ?? spawn();
      // Workers on their way back count as supply: steady churn is served by reuse, not by spawning.
      if (idle.length + returning < Math.max(2, target() / 2)) refill();
      return worker;
    },
    /**
     * Ends the Worker's stream and takes it back once it says it let go: to the idle set, or gone when there are
     * enough. A Worker that does not answer in time is terminated.
     */
    recycle(worker: StreamThread) {
      returning++;
      const done = (reuse: boolean) => {
        clearTimeout(timer);
        returning--;
        worker.onmessage = null;
        worker.onerror = null;
        if (reuse && !closed && idle.length < options.maxIdle) idle.push(worker);
        else worker.terminate();
      };
      const timer = setTimeout(() => done(false), RELEASE_TIMEOUT_MS);
      worker.onmessage = (message) => {
        if (message.type === 'released') done(true);
      };
      worker.onerror = () => done(false);
      worker.postMessage({ type: 'close' } satisfies MainToWorker);
    },
    /** A Worker that failed or did not let go: it exits. */
    discard(worker: StreamThread) {
      worker.onmessage = null;
      worker.onerror = null;
      worker.terminate();
    },
    stats: () => ({ threads: alive, idle: idle.length, returning }),
    close() {
      closed = true;
      clearInterval(shrink);
      for (const worker of idle.splice(0)) worker.terminate();
    },
  };
}
