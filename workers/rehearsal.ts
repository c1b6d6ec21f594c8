/**
 * A stream Worker's rehearsal, run once when it starts: one stream on scratch memory, from its replay through one
 * live message to its end. JavaScriptCore turns a function into bytecode the first time it runs, in every thread
 * anew; without this the first client of each Worker paid for it (about 2.5 ms of CPU per Worker here), all at
 * once in a connect storm. With it, that cost moves to the Worker's start, which --warm moves before the clients.
 */
import { encodeEntry, FORMATS, KIND_MESSAGE } from '../fanout/shm/entry.ts';
import { controlInts, ROOM_SEQ, ROOM_WORD_INTS, type HistoryPage, type StreamOptions } from '../fanout/shm/protocol.ts';
import { createLogReader, createLogWriter, type LogReader } from '../fanout/shm/shared-log.ts';
import { createOutRingBuffer } from '../fanout/shm/out-ring.ts';
import { createRoomWaves, type RoomWaves } from '../fanout/shm/room-waves.ts';
import type { WaitWords } from '../runtime/wait-word.ts';

/** What a stream uses of its Worker's shared memory. */
export interface Shared {
  log: LogReader;
  control: Int32Array;
  rooms: Int32Array;
  waiter: WaitWords;
  waves: RoomWaves;
}

interface Rehearsed {
  run(): Promise<void>;
  stop(): void;
}

export async function rehearse(
  createStream: (shared: Shared, out: SharedArrayBuffer, options: StreamOptions, page: HistoryPage) => Rehearsed,
  kind: WaitWords['kind'],
): Promise<void> {
  const writer = createLogWriter({ indexSlots: 4, dataBytes: 1 << 14 });
  const rooms = new Int32Array(new SharedArrayBuffer(4 * ROOM_WORD_INTS));
  const frames = FORMATS.map((f) => `id: 2\ndata: {"rehearsal":"${f}"}\n\n`);
  const entry = encodeEntry({ kind: KIND_MESSAGE, id: '2', clientNo: -1, frames });
  const seq = writer.append(entry.bytes, 0, entry.meta);
  Atomics.store(rooms, ROOM_SEQ, seq + 1);
  let stream: Rehearsed | null = null;
  // Instead of blocking, the first wait ends the rehearsal: the stream has written its live message by then.
  const waiter: WaitWords = { kind, wait: () => (stream?.stop(), false), wake: () => 0, wakeAll: () => 0 };
  const shared: Shared = {
    log: createLogReader(writer.buffer, writer.sizes),
    control: new Int32Array(new SharedArrayBuffer(4 * controlInts(1))),
    rooms,
    waiter,
    waves: createRoomWaves(rooms, waiter),
  };
  const history = new TextEncoder().encode('id: 1\ndata: {}\n\n');
  const page: HistoryPage = { frames: history, ends: [history.length], lastId: '1', more: false, fromSeq: seq, restart: false };
  const options: StreamOptions = {
    slot: 0, room: 'rehearsal', roomWord: 0, clientNo: -1, client: null, format: 'json', lastEventId: null,
    retryMs: 1000, heartbeatMs: 3_600_000, slowMs: 1000, fault: null,
  };
  stream = createStream(shared, createOutRingBuffer(1 << 12), options, page);
  await stream.run();
}
