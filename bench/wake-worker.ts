/** A waiter of bench/wake.ts: blocks on word 0 with the given kind, acknowledges each new round on word 1. */
import { openWaitWords, type WaitKind } from '../runtime/wait-word.ts';

declare const self: { onmessage: ((e: MessageEvent) => void) | null; postMessage(m: unknown): void };
const ROUND = 0;
const ACKS = 1;
const STOP = 2;

self.onmessage = async (event: MessageEvent<{ buffer: SharedArrayBuffer; kind: WaitKind }>) => {
  const words = new Int32Array(event.data.buffer);
  const wait = openWaitWords(words, event.data.kind);
  self.postMessage('ready');
  let seen = 0;
  for (;;) {
    while (Atomics.load(words, ROUND) === seen && Atomics.load(words, STOP) === 0) wait.wait(ROUND, seen, 10_000);
    if (Atomics.load(words, STOP) !== 0) break;
    seen = Atomics.load(words, ROUND);
    Atomics.add(words, ACKS, 1);
  }
  self.postMessage('done');
};
