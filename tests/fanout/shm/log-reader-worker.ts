import { createLogReader } from '../../../fanout/shm/shared-log.ts';
import { openWaitWords } from '../../../runtime/wait-word.ts';
import { ROOM_SEQ } from '../../../fanout/shm/protocol.ts';
import { createRoomWaves } from '../../../fanout/shm/room-waves.ts';
import { readEntry } from './read-entry.ts';

declare const self: Worker;
/** Reads `count` entries, blocking on room word 0 between them and passing each wave on, as a stream Worker does. */
self.onmessage = (e) => {
  const { buffer, sizes, count, rooms, wait } = e.data;
  const reader = createLogReader(buffer, sizes);
  const words = new Int32Array(rooms);
  const waiter = openWaitWords(words, wait);
  const waves = createRoomWaves(words, waiter);
  const got: string[] = [];
  let woken = false;
  for (let seq = 0; got.length < count; ) {
    const roomNow = Atomics.load(words, ROOM_SEQ);
    if (roomNow <= seq) {
      if (woken) waves.pass(0);
      woken = waiter.wait(ROOM_SEQ, roomNow, 1000);
    }
    for (; seq < reader.seq; seq++) got.push(new TextDecoder().decode(readEntry(reader, seq)!));
  }
  self.postMessage(got);
};
