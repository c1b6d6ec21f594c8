/**
 * A stream's writing end of its output ring: frames go in whole, a full ring is waited on (a ring full for
 * slowMs is a slow client, and ends the stream), and the main thread is told when the ring has bytes.
 */
import { CTL_DOORBELL, CTL_MAIN_WAITING, CTL_READY, type WorkerToMain } from '../fanout/shm/protocol.ts';
import { createRingWriter } from '../fanout/shm/out-ring.ts';
import { Stopped, type StopSignal } from './stop-signal.ts';

export interface RingOutputOptions {
  /** The stream's output ring (out-ring.ts), drained by the main thread. */
  out: SharedArrayBuffer;
  control: Int32Array;
  /** The stream's slot: its ready bit in the control block. */
  slot: number;
  slowMs: number;
  stop: StopSignal;
  /** Runs before each wait for space: a stream that waits lets its room's wave go on without it. */
  beforeWait: () => void;
  post: (message: WorkerToMain) => void;
}

export function createRingOutput({ out, control, slot, slowMs, stop, beforeWait, post }: RingOutputOptions) {
  const ring = createRingWriter(out);
  const readyInt = CTL_READY + (slot >> 5);
  const readyBit = 1 << (slot & 31);

  /**
   * Tells the main thread this ring has bytes: one ready bit per batch, however many frames it holds, and a
   * notify only when the main thread is waiting (while it drains it looks at the ready bits again by itself).
   */
  const ringBell = () => {
    if ((Atomics.or(control, readyInt, readyBit) & readyBit) === 0 && Atomics.exchange(control, CTL_MAIN_WAITING, 0) === 1) {
      Atomics.add(control, CTL_DOORBELL, 1);
      Atomics.notify(control, CTL_DOORBELL);
    }
  };

  /** Copies a frame into the ring unpublished, waiting while it is full; a ring that stays full for slowMs is a slow client. */
  const stage = async (frame: Uint8Array) => {
    let since = 0;
    for (let drained = ring.drained(); !ring.stage(frame); drained = ring.drained()) {
      beforeWait();
      if (stop.stopped) throw new Stopped();
      if (frame.length > ring.capacity) throw new Error(`frame of ${frame.length} bytes exceeds the ring`);
      ringBell();
      const now = Date.now();
      since ||= now;
      if (now - since >= slowMs) {
        post({ type: 'ended', reason: 'slow' });
        throw new Stopped();
      }
      await Promise.race([ring.waitForSpace(drained, Math.min(250, slowMs)), stop.signal]);
    }
  };

  /** `event`: an SSE event (counted for /metrics), not a comment or the retry hint. */
  const write = async (frame: Uint8Array, event = false) => {
    await stage(frame);
    if (event) ring.publishEvent(frame.length);
    else ring.publish(frame.length);
  };

  return { ring, ringBell, stage, write };
}

export type RingOutput = ReturnType<typeof createRingOutput>;
