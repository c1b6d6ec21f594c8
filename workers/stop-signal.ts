/** How a stream is stopped (the main thread's `close`, or the stream ending itself) while it may be waiting. */

/** Thrown to unwind a stream that was stopped while it waited. */
export class Stopped extends Error {}

export function createStopSignal() {
  let resolve: () => void = () => {};
  const signal = new Promise<void>((r) => (resolve = r));
  const rejection = signal.then(() => Promise.reject(new Stopped()));
  rejection.catch(() => {}); // handled where it is raced; never an unhandled rejection
  const stop = {
    stopped: false,
    /** Resolves when the stream is stopped: race a wait against it. */
    signal,
    /** Rejects with Stopped when the stream is stopped: race a wait for a result against it. */
    rejection: rejection as Promise<never>,
    stop() {
      stop.stopped = true;
      resolve();
    },
  };
  return stop;
}

export type StopSignal = ReturnType<typeof createStopSignal>;
