/**
 * The thread of one client. It writes the room's history (history-replay.ts), then follows the shared event log
 * (follow-log.ts): it keeps the entries of its room that its client should see (not the client's own, nothing
 * twice) and copies their frames into its own output ring (ring-output.ts), waiting while the client is slow, and
 * keeps the stream alive with heartbeats. It never touches the socket: the main thread drains the ring. When the
 * stream ends it goes back to the pool and serves the next one.
 */
import type { HistoryPage, MainToWorker, StreamOptions, WorkerInit, WorkerToMain } from '../fanout/shm/protocol.ts';
import { createLogReader } from '../fanout/shm/shared-log.ts';
import { setPriority } from 'node:os';
import { connectParent } from '../runtime/thread.ts';
import { openWaitWords } from '../runtime/wait-word.ts';
import { createRoomWaves } from '../fanout/shm/room-waves.ts';
import { createBaton, createLogFollower } from './follow-log.ts';
import { createHistoryReplay } from './history-replay.ts';
import { LastId } from './last-id.ts';
import { rehearse, type Shared } from './rehearsal.ts';
import { createRingOutput } from './ring-output.ts';
import { createStopSignal, Stopped } from './stop-signal.ts';
import type { StreamFormat } from '../views/frames.ts';
// Not views/frames.ts itself: it would bring the page's markup code into every Worker.
import { isSse, NDJSON_KEEPALIVE, NDJSON_OPEN, RAW_KEEPALIVE, RAW_OPEN } from '../views/plain-frames.ts';

const parent = connectParent<MainToWorker, WorkerToMain>(); // Bun: self; Node: worker_threads' parentPort

const encoder = new TextEncoder();
const SSE_HEARTBEAT = encoder.encode(': keep-alive\n\n');
/** A keep-alive in each format: an SSE comment, or a line the plain formats' readers can skip (views/plain-frames.ts). */
const heartbeatOf = (format: StreamFormat) =>
  format === 'raw' ? encoder.encode(RAW_KEEPALIVE) : format === 'ndjson' ? encoder.encode(NDJSON_KEEPALIVE) : SSE_HEARTBEAT;
const post = (message: WorkerToMain) => parent.postMessage(message);

let shared: Shared | null = null;
let stream: ReturnType<typeof createStream> | null = null;

parent.onMessage((message) => {
  switch (message.type) {
    case 'init':
      shared = init(message.init);
      // Ready once the code has run once (rehearsal.ts); a failed rehearsal costs only the head start.
      void rehearse(createStream, message.init.wait).catch(() => {}).finally(() => post({ type: 'ready' }));
      break;
    case 'open': {
      const current = (stream = createStream(shared!, message.out, message.options, message.page));
      current
        .run()
        .catch((error) => {
          if (!(error instanceof Stopped)) post({ type: 'ended', reason: 'error', detail: String(error?.stack ?? error) });
        })
        .finally(() => {
          if (stream === current) stream = null;
          post({ type: 'released' });
        });
      break;
    }
    case 'page':
      stream?.deliverPage(message.page);
      break;
    case 'close':
      stream?.stop();
      break;
    default:
      message satisfies never;
  }
});

/**
 * Lowers this thread's scheduling priority: a thousand stream threads waking for a message would otherwise crowd
 * out the main thread, which accepts the messages and writes every socket. On Linux, setpriority() of "the
 * calling process" (pid 0) changes only the calling thread. (node:os is the one Node module this file loads:
 * node:fs or node:worker_threads would cost each Worker half a megabyte or more.)
 */
function yieldPriority() {
  try {
    setPriority(19);
  } catch {
    // not permitted here: run at the normal priority
  }
}

function init(message: WorkerInit): Shared {
  yieldPriority();
  const rooms = new Int32Array(message.rooms);
  const waiter = openWaitWords(rooms, message.wait);
  return {
    log: createLogReader(message.log, message.logSizes),
    control: new Int32Array(message.control),
    rooms,
    waiter,
    waves: createRoomWaves(rooms, waiter),
  };
}

/** One stream on this thread: its history first, then the live log, into its ring; heartbeats meanwhile. */
function createStream(
  { log, control, rooms, waiter, waves }: Shared,
  out: SharedArrayBuffer,
  options: StreamOptions,
  firstPage: HistoryPage,
) {
  const stop = createStopSignal();
  const last = new LastId(options.lastEventId);
  const baton = createBaton(waves, options.roomWord);
  const output = createRingOutput({ out, control, slot: options.slot, slowMs: options.slowMs, stop, beforeWait: baton.pass, post });
  const history = createHistoryReplay(firstPage, { output, last, stop, post });
  const follow = createLogFollower({ log, rooms, waiter, options, output, last, stop, baton });

  return {
    async run() {
      const opening = isSse(options.format) ? `retry: ${options.retryMs}\n\n` : options.format === 'ndjson' ? NDJSON_OPEN : RAW_OPEN;
      await output.write(encoder.encode(opening));
      const beat = heartbeatOf(options.format);
      const heartbeat = setInterval(() => {
        if (output.ring.write(beat)) output.ringBell();
      }, options.heartbeatMs);
      try {
        let seq = await history.replay();
        if (options.poll) return post({ type: 'ended', reason: 'done' }); // what was there went out: the end
        if (options.fault === 'throw') setTimeout(() => { throw new Error('injected fault'); });
        for (;;) {
          await follow(seq);
          if (stop.stopped) return;
          seq = await history.replay(); // fell behind the log: catch up from the store
        }
      } finally {
        clearInterval(heartbeat);
      }
    },
    deliverPage: history.deliver,
    stop: stop.stop,
  };
}
