import { OUT_EVENTS, OUT_HEADER_BYTES, OUT_LOG_SEQ, OUT_READ, OUT_RING_BYTES, OUT_WRITE } from './protocol.ts';

/** A single-producer (Worker), single-consumer (main thread) byte ring of SSE frames. */
export function createOutRingBuffer(bytes = OUT_RING_BYTES): SharedArrayBuffer {
  return new SharedArrayBuffer(OUT_HEADER_BYTES + bytes);
}

function views(buffer: SharedArrayBuffer) {
  return {
    header: new Int32Array(buffer, 0, OUT_HEADER_BYTES / 4),
    data: new Uint8Array(buffer, OUT_HEADER_BYTES),
  };
}

/** The Worker's end: writes whole frames or nothing. */
export function createRingWriter(buffer: SharedArrayBuffer) {
  const { header, data } = views(buffer);
  const size = data.length;
  // One memcpy through set(), never a byte loop: a Worker's code runs in JavaScriptCore's slowest tier for a long
  // time (each Worker warms its own JIT), where a loop over a 200-byte frame costs more than the Worker's wake.
  const copy = (src: Uint8Array, from: number, to: number, at: number) => data.set(src.subarray(from, to), at);
  return {
    /** Bytes free right now. */
    free(): number {
      return size - ((Atomics.load(header, OUT_WRITE) - Atomics.load(header, OUT_READ)) >>> 0);
    },
    /** Copies `frame` in whole and publishes it; false (nothing written) when it does not fit. */
    write(frame: Uint8Array): boolean {
      if (!this.stage(frame)) return false;
      this.publish(frame.length);
      return true;
    },
    /**
     * Copies `frame` into the free space without publishing it (the consumer does not see it yet), so a writer
     * can check that its source was intact before calling publish(). False when it does not fit.
     */
    stage(frame: Uint8Array): boolean {
      return this.stageRange(frame, 0, frame.length);
    },
    /** stage() of `src[start, end)`, without making a view of it. */
    stageRange(src: Uint8Array, start: number, end: number): boolean {
      const length = end - start;
      if (length > this.free()) return false;
      const at = (Atomics.load(header, OUT_WRITE) >>> 0) % size;
      const first = Math.min(length, size - at);
      if (first === length) copy(src, start, end, at);
      else {
        copy(src, start, start + first, at);
        copy(src, start + first, end, 0);
      }
      return true;
    },
    /** Makes the `length` staged bytes visible to the consumer. */
    publish(length: number) {
      Atomics.store(header, OUT_WRITE, (Atomics.load(header, OUT_WRITE) + length) | 0);
    },
    /**
     * publish() for one SSE event, counted for /metrics; `logSeq`: the log entry it came from (-1: history).
     * Plain writes: the publishing Atomics.store orders them for the reader, as it does the frame's bytes.
     */
    publishEvent(length: number, logSeq = -1) {
      header[OUT_EVENTS] = (header[OUT_EVENTS]! + 1) | 0;
      if (logSeq >= 0) header[OUT_LOG_SEQ] = logSeq + 1;
      this.publish(length);
    },
    /** Where the consumer has drained to: take it before a stage() that may fail, to wait on with waitForSpace(). */
    drained: () => Atomics.load(header, OUT_READ),
    /**
     * Resolves once the consumer has drained past `drained` (a drained() reading taken before the stage() that
     * failed), or after `timeoutMs`. Reading the position here instead would lose the wake of a drain that came
     * between the failed stage() and this call: the writer would then sleep out the whole timeout.
     */
    async waitForSpace(drained: number, timeoutMs: number): Promise<void> {
      const result = Atomics.waitAsync(header, OUT_READ, drained, timeoutMs);
      if (result.async) await result.value;
    },
    capacity: size,
  };
}

/** The main thread's end: takes everything published so far. */
export function createRingReader(buffer: SharedArrayBuffer) {
  const { header, data } = views(buffer);
  const size = data.length;
  let events = 0; // OUT_EVENTS as of the last drain
  let counted = 0; // ... as of the last takeEvents()
  let logSeq = 0; // OUT_LOG_SEQ as of the last drain
  let timed = 0; // ... as of the last takeLogSeq()
  return {
    /** SSE events drained since the last call (for /metrics). */
    takeEvents(): number {
      const n = (events - counted) >>> 0;
      counted = events;
      return n;
    },
    /** The log entry of the newest live event drained, if newer than at the last call; else -1 (for /metrics). */
    takeLogSeq(): number {
      if (logSeq === timed) return -1;
      timed = logSeq;
      return logSeq - 1;
    },
    /** Bytes written and not yet drained. */
    used: () => (Atomics.load(header, OUT_WRITE) - Atomics.load(header, OUT_READ)) >>> 0,
    /** Everything written and not yet drained, as one new array (null when empty); wakes a Worker waiting for space. */
    drain(): Uint8Array | null {
      const w = Atomics.load(header, OUT_WRITE) >>> 0;
      const r = Atomics.load(header, OUT_READ) >>> 0;
      events = Atomics.load(header, OUT_EVENTS);
      logSeq = Atomics.load(header, OUT_LOG_SEQ);
      const used = (w - r) >>> 0;
      if (used === 0) return null;
      const at = r % size;
      const out = new Uint8Array(used);
      const first = Math.min(used, size - at);
      out.set(data.subarray(at, at + first));
      if (first < used) out.set(data.subarray(0, used - first), first);
      Atomics.store(header, OUT_READ, (r + used) | 0);
      Atomics.notify(header, OUT_READ);
      return out;
    },
  };
}
