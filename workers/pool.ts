import type { MainToWorker, WorkerInit } from './protocol.ts';

const workerUrl = new URL('./stream-worker.ts', import.meta.url).href;

export interface PoolOptions {
  init: WorkerInit;
  /** Idle Workers kept ready at the least. */
  minIdle: number;
  /** Idle Workers kept at the most; a Worker released past it exits. */
  maxIdle: number;
}

/**
 * Pre-spawned stream Workers, so a new stream never waits for a thread to start and load its code. The idle
 * target follows the connect rate: as many as streams opened in the last second, within [minIdle, maxIdle].
 */
export function createWorkerPool(options: PoolOptions) {
  const idle: Worker[] = [];
  const recent: number[] = []; // acquire times of the last second
  let alive = 0;
  let closed = false;
  let refilling = false;

  const spawn = () => {
    const worker = new Worker(workerUrl, { smol: true } as WorkerOptions);
    alive++;
    worker.addEventListener('close', () => alive--);
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
      for (let i = 0; i < 4 && idle.length < target(); i++) idle.push(spawn());
      if (idle.length < target()) refill();
    }, 0);
  };
  refill();

  return {
    acquire(): Worker {
      recent.push(Date.now());
      const worker = idle.pop() ?? spawn();
      refill();
      return worker;
    },
    /** A Worker whose stream ended cleanly: back to the idle set, or gone when there are enough. */
    release(worker: Worker) {
      worker.onmessage = null;
      worker.onerror = null;
      if (!closed && idle.length < options.maxIdle) idle.push(worker);
      else worker.terminate();
    },
    /** A Worker that failed or did not let go: it exits. */
    discard(worker: Worker) {
      worker.onmessage = null;
      worker.onerror = null;
      worker.terminate();
    },
    stats: () => ({ threads: alive, idle: idle.length }),
    close() {
      closed = true;
      for (const worker of idle.splice(0)) worker.terminate();
    },
  };
}
