/**
 * One thread API on both runtimes. Bun runs a web `Worker` (`smol` keeps its heap small); Node 20 has no global
 * `Worker`, so there it is a `worker_threads.Worker`, and the child talks through `parentPort` instead of `self`.
 * Messages are structured clones either way; SharedArrayBuffers are shared, not copied.
 *
 * Entry files: from source (Bun) a thread runs its `.ts` file beside this one; in the Node build (`npm run
 * build`, scripts/build.ts) every name in THREAD_ENTRIES is a bundle of its own under dist/, at the same path.
 */
import type * as WorkerThreads from 'node:worker_threads';

/** Every thread entry file, relative to the project root, without extension. The build makes one bundle each. */
export const THREAD_ENTRIES = ['workers/stream-worker', 'store/sqlite-writer'] as const;
export type ThreadEntry = (typeof THREAD_ENTRIES)[number];

const isBun = typeof Bun !== 'undefined';
// Loaded only on Node: on Bun the module would cost each stream Worker ~0.7 MB for nothing.
const workerThreads: typeof WorkerThreads | null = isBun ? null : await import('node:worker_threads');

/** Entries bundled in memory by prepareThreads(), as blob: URLs. */
const bundled = new Map<ThreadEntry, string>();

/**
 * On Bun from source: bundles every thread entry once, in memory, so that each new thread loads one script
 * instead of transpiling and linking a dozen modules of its own. bench/spawn.ts measures a Worker start from
 * the sources at about twice one from a bundle. Without it (a failed build, or never called) threads run the
 * sources; the Node build has its bundles on disk already.
 */
export async function prepareThreads(): Promise<void> {
  if (!isBun || !import.meta.url.endsWith('.ts')) return;
  for (const entry of THREAD_ENTRIES) {
    try {
      const result = await Bun.build({ entrypoints: [new URL(`../${entry}.ts`, import.meta.url).pathname], target: 'bun' });
      const output = result.success && result.outputs.length === 1 ? result.outputs[0]! : null;
      if (output) bundled.set(entry, URL.createObjectURL(new Blob([await output.text()], { type: 'text/javascript' })));
    } catch {
      // run from the sources
    }
  }
}

/**
 * The file a thread runs. Running from source this module is `runtime/thread.ts`; built, it is inlined into
 * `dist/server.js`, one level up from where it sits in source, and the entries are `.js` bundles.
 */
export function threadUrl(entry: ThreadEntry): URL {
  const blob = bundled.get(entry);
  if (blob) return new URL(blob);
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL(`../${entry}.ts`, here) : new URL(`./${entry}.js`, here);
}

/** The parent's handle on a thread. Handlers take the message itself (not an event); either side may swap them. */
export interface Thread<In, Out> {
  postMessage(message: In): void;
  onmessage: ((message: Out) => void) | null;
  /** An uncaught error in the thread. It never reaches the parent's own error handling, handler or not. */
  onerror: ((error: Error) => void) | null;
  terminate(): void;
}

export interface ThreadOptions {
  /** Bun: a smaller heap per thread (Node ignores it). */
  smol?: boolean;
  /** Called once when the thread has exited, however it ended. */
  onExit?: () => void;
}

export function spawnThread<In, Out>(entry: ThreadEntry, options: ThreadOptions = {}): Thread<In, Out> {
  const url = threadUrl(entry);
  const thread: Thread<In, Out> = { postMessage: () => {}, onmessage: null, onerror: null, terminate: () => {} };
  if (isBun) {
    const worker = new Worker(url.href, { smol: options.smol ?? false } as WorkerOptions);
    worker.onmessage = (event: MessageEvent<Out>) => thread.onmessage?.(event.data);
    worker.addEventListener('error', (event) => {
      event.preventDefault(); // handled here: not an uncaught error of the parent
      thread.onerror?.(new Error(event.message));
    });
    if (options.onExit) worker.addEventListener('close', options.onExit);
    thread.postMessage = (message) => worker.postMessage(message);
    thread.terminate = () => worker.terminate();
  } else {
    const worker = new workerThreads!.Worker(url);
    worker.on('message', (message: Out) => thread.onmessage?.(message));
    // Always listened to: a worker_threads 'error' without a listener would crash the parent.
    worker.on('error', (error: unknown) => thread.onerror?.(error instanceof Error ? error : new Error(String(error))));
    worker.on('messageerror', (error) => thread.onerror?.(error));
    if (options.onExit) worker.once('exit', options.onExit);
    thread.postMessage = (message) => worker.postMessage(message);
    thread.terminate = () => void worker.terminate();
  }
  return thread;
}

/** The child's handle on its parent. */
export interface Parent<In, Out> {
  postMessage(message: Out): void;
  /** Sets the handler of messages from the parent (replacing the previous one). */
  onMessage(handler: (message: In) => void): void;
}

/** Call once, at the top of a thread entry file. */
export function connectParent<In, Out>(): Parent<In, Out> {
  let handler: ((message: In) => void) | null = null;
  if (isBun) {
    const scope = globalThis as unknown as { postMessage(message: unknown): void; onmessage: ((event: MessageEvent<In>) => void) | null };
    scope.onmessage = (event) => handler?.(event.data);
    return { postMessage: (message) => scope.postMessage(message), onMessage: (h) => void (handler = h) };
  }
  const port = workerThreads!.parentPort;
  if (!port) throw new Error('connectParent() called outside a worker thread');
  port.on('message', (message: In) => handler?.(message));
  return { postMessage: (message) => port.postMessage(message), onMessage: (h) => void (handler = h) };
}
