import { createRingWriter } from '../../../fanout/shm/out-ring.ts';

declare const self: Worker;
self.onmessage = (e) => {
  const ring = createRingWriter(e.data);
  ring.write(new TextEncoder().encode('whole;'));
  ring.stage(new TextEncoder().encode('half-written')); // copied, never published
  self.postMessage('staged');
};
