/**
 * The thread of one client. It writes the room's history, then follows the shared event log: it keeps the
 * entries of its room that its client should see (not the client's own, nothing twice) and copies their
 * frames into its own output ring, waiting while the client is slow, and keeps the stream alive with
 * heartbeats. It never touches the socket: the main thread drains the ring. When the stream ends it goes
 * back to the pool and serves the next one.
 */
import {
  compareIdParts, idHi, idParts, KIND_MESSAGE, META_CLIENT, META_FRAMES, META_ID_DASH, META_ID_HIGH, META_ID_LO,
  META_ID_LOW, META_KIND, FORMAT_INDEX,
} from '../fanout/shm/entry.ts';
import {
  CTL_DOORBELL, CTL_MAIN_WAITING, CTL_READY, LOG_INDEX_META, LOG_INDEX_OFFSET, ROOM_SEQ, type HistoryPage, type MainToWorker, type StreamOptions,
  type WorkerInit, type WorkerToMain,
} from '../fanout/shm/protocol.ts';
import { createLogReader } from '../fanout/shm/shared-log.ts';
import { createRingWriter } from '../fanout/shm/out-ring.ts';
import { setPriority } from 'node:os';
import { connectParent } from '../runtime/thread.ts';
import { openWaitWords } from '../runtime/wait-word.ts';
import { createRoomWaves } from '../fanout/shm/room-waves.ts';
import { rehearse, type Shared } from './rehearsal.ts';

const parent = connectParent<MainToWorker, WorkerToMain>(); // Bun: self; Node: worker_threads' parentPort

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(': keep-alive\n\n');
const post = (message: WorkerToMain) => parent.postMessage(message);

/** Longest a following Worker blocks before its event loop runs (messages from the main thread, heartbeats). */
const YIELD_MS = 1000;
/** How long `?fault=stall` holds a wave (protocol.ts). */
const STALL_MS = 3000;
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Thrown to unwind a stream that was stopped while it waited. */
class Stopped extends Error {}

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

function createStream(
  { log, control, rooms, waiter, waves }: Shared,
  out: SharedArrayBuffer,
  options: StreamOptions,
  firstPage: HistoryPage,
) {
  const ring = createRingWriter(out);
  const frameField = LOG_INDEX_META + META_FRAMES + 2 * FORMAT_INDEX[options.format];
  const readyInt = CTL_READY + (options.slot >> 5);
  const readyBit = 1 << (options.slot & 31);
  const roomWord = options.roomWord;
  const roomSeq = roomWord + ROOM_SEQ;
  let stopped = false;
  let wake: () => void = () => {};
  const stopSignal = new Promise<void>((resolve) => (wake = resolve));
  const stopError = stopSignal.then(() => Promise.reject(new Stopped()));
  stopError.catch(() => {}); // handled where it is raced; never an unhandled rejection
  // The last message id the client has (written, or skipped as its own): numbers on the hot path, text on demand.
  let lastHi = -1;
  let lastLo = 0;
  let lastDash = false;
  const setLast = (id: string | null) => {
    if (id === null) return;
    [lastHi, lastLo] = idParts(id);
    lastDash = id.includes('-');
  };
  const lastIdText = () => (lastHi < 0 ? null : lastDash ? `${lastHi}-${lastLo}` : String(lastHi));
  setLast(options.lastEventId);
  // Woken by a wave: this thread holds one of its batons until its pass is done (room-waves.ts).
  let baton = false;
  const passBaton = () => {
    if (!baton) return;
    baton = false;
    waves.pass(roomWord);
  };
  let pageWaiter: ((page: HistoryPage) => void) | null = null;
  let pending: HistoryPage | null = firstPage;

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
      passBaton(); // the wave goes on without this slow client
      if (stopped) throw new Stopped();
      if (frame.length > ring.capacity) throw new Error(`frame of ${frame.length} bytes exceeds the ring`);
      ringBell();
      const now = Date.now();
      since ||= now;
      if (now - since >= options.slowMs) {
        post({ type: 'ended', reason: 'slow' });
        throw new Stopped();
      }
      await Promise.race([ring.waitForSpace(drained, Math.min(250, options.slowMs)), stopSignal]);
    }
  };

  /** `event`: an SSE event (counted for /metrics), not a comment or the retry hint. */
  const write = async (frame: Uint8Array, event = false) => {
    await stage(frame);
    if (event) ring.publishEvent(frame.length);
    else ring.publish(frame.length);
  };

  const nextPage = (after: string | null): Promise<HistoryPage> => {
    if (pending) {
      const page = pending;
      pending = null;
      return Promise.resolve(page);
    }
    post({ type: 'more', after });
    return Promise.race([new Promise<HistoryPage>((resolve) => (pageWaiter = resolve)), stopError]);
  };

  /** Writes stored history page by page; returns the log position to follow from. */
  const replay = async (): Promise<number> => {
    for (;;) {
      const page = await nextPage(lastIdText());
      let start = 0;
      for (const end of page.ends) {
        await write(page.frames.subarray(start, end), true);
        start = end;
      }
      if (page.restart) lastHi = -1; // not an id of this store: live messages are all new to this client
      setLast(page.lastId);
      ringBell();
      if (!page.more) return page.fromSeq;
    }
  };

  /**
   * Copies a frame that lives in the shared log straight into the ring (no copy in between), publishing it only
   * if the log entry was still intact after the copy. False when it was overwritten: this reader fell behind.
   */
  const writeFromLog = async (entry: Uint8Array, start: number, end: number, seq: number): Promise<boolean> => {
    if (!ring.stageRange(entry, start, end)) await stage(entry.subarray(start, end)); // full: wait for room
    if (!log.intact(seq)) return false;
    ring.publishEvent(end - start, seq);
    return true;
  };

  /**
   * Follows the log from `seq`; returns when this reader fell so far behind that entries were overwritten.
   * While nothing new is in its room the thread blocks on the room's word (runtime/wait-word.ts); every YIELD_MS
   * it lets its event loop run, so messages from the main thread (close) and timers (heartbeat) are not held up.
   */
  const follow = async (seq: number): Promise<void> => {
    try {
      await followLog(seq);
    } finally {
      passBaton();
    }
  };
  let stall = options.fault === 'stall';
  const followLog = async (seq: number): Promise<void> => {
    let yielded = Date.now();
    while (!stopped) {
      // In this order: the main thread signals an entry of the room before it appends the next one, so every
      // entry of the room below published - 1 is already counted in roomNow.
      const published = log.seq;
      const roomNow = Atomics.load(rooms, roomSeq); // 1 + the room's newest signalled entry
      if (roomNow <= seq) {
        // Nothing of this room in [seq, published - 1): skip other rooms' entries unread, then block. An entry
        // signalled after the load above changes the word, and the wait returns at once.
        if (published - 1 > seq) seq = published - 1;
        passBaton(); // caught up: the next Worker of the wave takes its turn
        baton = waiter.wait(roomSeq, roomNow, YIELD_MS);
        if (baton && stall) {
          stall = false;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, STALL_MS);
        }
      } else {
        const { index, data } = log;
        for (; seq < published; seq++) {
          // Integer fields only (entry.ts): the room by its word, the sender by its number, the id as numbers.
          const at = log.slot(seq);
          if (at < 0) return;
          if (log.roomWord(seq) !== roomWord) {
            if (!log.intact(seq)) return; // the word read may be a newer entry's: fell behind, catch up
            continue; // another room's entry: its bytes are never read
          }
          const message = index[at + LOG_INDEX_META + META_KIND] === KIND_MESSAGE;
          const hi = idHi(index[at + LOG_INDEX_META + META_ID_HIGH]!, index[at + LOG_INDEX_META + META_ID_LOW]!);
          const lo = index[at + LOG_INDEX_META + META_ID_LO]!;
          const dash = index[at + LOG_INDEX_META + META_ID_DASH] === 1;
          const own = options.clientNo >= 0 && index[at + LOG_INDEX_META + META_CLIENT] === options.clientNo;
          const off = index[at + LOG_INDEX_OFFSET]!;
          const start = off + index[at + frameField]!;
          const end = off + index[at + frameField + 1]!;
          if (!log.intact(seq)) return;
          if (message) {
            // The log may repeat what the replay already wrote (an append racing the history query): ids decide.
            if (lastHi >= 0 && compareIdParts(hi, lo, lastHi, lastLo) <= 0) continue;
            if (own) { // the original server never echoed a message to its sender
              lastHi = hi;
              lastLo = lo;
              lastDash = dash;
              continue;
            }
          }
          const written = ring.stageRange(data, start, end) && log.intact(seq)
            ? (ring.publishEvent(end - start, seq), true)
            : await writeFromLog(data, start, end, seq);
          if (!written) return;
          if (message) {
            lastHi = hi;
            lastLo = lo;
            lastDash = dash;
          }
        }
        ringBell();
      }
      if (Date.now() - yielded >= YIELD_MS) {
        passBaton();
        await yieldToEventLoop();
        yielded = Date.now();
      }
    }
  };

  return {
    async run() {
      await write(encoder.encode(`retry: ${options.retryMs}\n\n`));
      const heartbeat = setInterval(() => {
        if (ring.write(HEARTBEAT)) ringBell();
      }, options.heartbeatMs);
      try {
        let seq = await replay();
        if (options.fault === 'throw') setTimeout(() => { throw new Error('injected fault'); });
        for (;;) {
          await follow(seq);
          if (stopped) return;
          seq = await replay(); // fell behind the log: catch up from the store
        }
      } finally {
        clearInterval(heartbeat);
      }
    },
    deliverPage(page: HistoryPage) {
      const waiter = pageWaiter;
      pageWaiter = null;
      if (waiter) waiter(page);
      else pending = page;
    },
    stop() {
      stopped = true;
      wake();
    },
  };
}
