import { createLogReader } from '../../workers/shared-log.ts';
import { openWaitWords } from '../../runtime/wait-word.ts';
import { ROOM_SEQ } from '../../workers/protocol.ts';

declare const self: Worker;
/** Reads `count` entries, blocking on room word 0 (as a stream Worker does) between them. */
self.onmessage = (e) => {
  const { buffer, sizes, count, rooms, wait } = e.data;
  const reader = createLogReader(buffer, sizes);
  const words = new Int32Array(rooms);
  const waiter = openWaitWords(words, wait);
  const got: string[] = [];
  for (let seq = 0; got.length < count; ) {
    const roomNow = Atomics.load(words, ROOM_SEQ);
    if (roomNow <= seq) waiter.wait(ROOM_SEQ, roomNow, 1000);
    for (; seq < reader.seq; seq++) got.push(new TextDecoder().decode(reader.read(seq)!));
  }
  self.postMessage(got);
};
