import { CTL_DOORBELL, CTL_MAIN_WAITING, CTL_READY } from './shm/protocol.ts';

/** What the drain loop moves bytes for: a stream whose ring rang. */
export interface Drainable {
  pump(): void;
}

/**
 * The main thread's drain loop: it drains only the rings whose ready bit is set, 32 slots at a time, and waits on
 * the doorbell when none is. A Worker rings the doorbell only while CTL_MAIN_WAITING says the loop waits, so a
 * busy loop costs the Workers no notify. Returns stop().
 */
export function startReadyDrain(ctl: Int32Array, streams: readonly (Drainable | undefined)[]): () => void {
  let running = true;

  /** Drains the rings whose ready bit is set, a whole int (32 slots) at a time; true when any was. */
  const drainReady = () => {
    let any = false;
    const ints = CTL_READY + Math.ceil(streams.length / 32);
    for (let at = CTL_READY; at < ints; at++) {
      if (ctl[at] === 0) continue;
      // Taken before draining: a frame written after this rings again, so none is left behind.
      let bits = Atomics.exchange(ctl, at, 0);
      any ||= bits !== 0;
      const base = (at - CTL_READY) * 32;
      while (bits !== 0) {
        const bit = 31 - Math.clz32(bits);
        bits &= ~(1 << bit);
        const stream = streams[base + bit];
        if (stream) stream.pump();
      }
    }
    return any;
  };

  const loop = async () => {
    while (running) {
      const seen = Atomics.load(ctl, CTL_DOORBELL);
      Atomics.store(ctl, CTL_MAIN_WAITING, 1);
      if (drainReady()) {
        Atomics.store(ctl, CTL_MAIN_WAITING, 0);
        await new Promise<void>((resolve) => setImmediate(resolve)); // requests and sockets run between rounds
        continue;
      }
      const wait = Atomics.waitAsync(ctl, CTL_DOORBELL, seen);
      if (wait.async) await wait.value;
    }
  };
  void loop();

  return () => {
    running = false;
    Atomics.add(ctl, CTL_DOORBELL, 1); // wakes the loop so that it sees it is stopped
    Atomics.notify(ctl, CTL_DOORBELL);
  };
}
