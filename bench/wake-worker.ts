/**
 * A waiter of bench/wake.ts: blocks on word 0 with the given kind, acknowledges each new round on word 1. In a
 * wave (`wave` set) it then wakes the next waiter while word 3 (still to wake) lasts, as fanout/shm/room-waves.ts does.
 */
import { setPriority } from 'node:os';
import { openWaitWords, type WaitKind } from '../runtime/wait-word.ts';

declare const self: { onmessage: ((e: MessageEvent) => void) | null; postMessage(m: unknown): void };
const ROUND = 0;
const ACKS = 1;
const STOP = 2;
const TO_WAKE = 3;

self.onmessage = async (event: MessageEvent<{ buffer: SharedArrayBuffer; kind: WaitKind; wave: boolean }>) => {
  if (event.data.wave) setPriority(19); // as a stream Worker does (workers/stream-worker.ts)
  const words = new Int32Array(event.data.buffer);
  const wait = openWaitWords(words, event.data.kind);
  self.postMessage('ready');
  let seen = 0;
  for (;;) {
    while (Atomics.load(words, ROUND) === seen && Atomics.load(words, STOP) === 0) wait.wait(ROUND, seen, 10_000);
    if (Atomics.load(words, STOP) !== 0) break;
    seen = Atomics.load(words, ROUND);
    Atomics.add(words, ACKS, 1);
    if (event.data.wave && Atomics.sub(words, TO_WAKE, 1) > 0) wait.wake(ROUND, 1);
  }
  self.postMessage('done');
};
