/**
 * The thread of one client: it replays the room's history, then follows the shared event log, keeps the room's
 * events that this client should see, formats them as SSE frames and writes them into its own output ring.
 * It never touches the socket; the main thread drains the ring.
 */
import { heartbeatFrame, messageFrame, presenceFrame, resetFrame, retryFrame } from '../views/frames.ts';
import { compareIds, type ChatEvent } from '../store/types.ts';
import { CTL_DOORBELL, CTL_FLAGS, type HistoryPage, type MainToWorker, type StreamOptions, type WorkerToMain } from './protocol.ts';
import { createLogReader, type LogReader } from './shared-log.ts';
import { createRingWriter } from './out-ring.ts';

declare const self: Worker;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const post = (message: WorkerToMain) => self.postMessage(message);

class Ended extends Error {}

let stream: ReturnType<typeof createStream> | null = null;

self.onmessage = (event: MessageEvent<MainToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case 'open':
      stream = createStream(message);
      stream.run().catch((error) => {
        if (error instanceof Ended) return;
        post({ type: 'ended', reason: 'error', detail: String(error?.stack ?? error) });
      });
      break;
    case 'page':
      stream?.deliverPage(message.page);
      break;
    case 'close':
      stream?.stop();
      break;
    default:
      message satisfies never;
  }
};

function createStream(open: Extract<MainToWorker, { type: 'open' }>) {
  const options: StreamOptions = open.options;
  const log: LogReader = createLogReader(open.log, open.logSizes);
  const ring = createRingWriter(open.out);
  const control = new Int32Array(open.control);
  const flag = CTL_FLAGS + open.slot;
  let stopped = false;
  let lastId: string | null = options.lastEventId;
  let pageWaiter: ((page: HistoryPage) => void) | null = null;
  let pending: HistoryPage | null = open.page;
  // Messages sent with this client id are the client's own: not echoed live, nor in a resume (it showed them).
  const own = (client: string | null) => options.client !== null && client === options.client;

  /** Tells the main thread this ring has bytes, once per batch: one doorbell however many frames were written. */
  const ringBell = () => {
    if (Atomics.exchange(control, flag, 1) === 0) {
      Atomics.add(control, CTL_DOORBELL, 1);
      Atomics.notify(control, CTL_DOORBELL);
    }
  };

  /** Writes a frame, waiting while the ring is full; a ring that stays full for slowMs means a slow client. */
  const write = async (frame: string) => {
    const bytes = encoder.encode(frame);
    let since = 0;
    while (!ring.write(bytes)) {
      if (stopped) throw new Ended();
      if (bytes.length > ring.capacity) throw new Error(`frame of ${bytes.length} bytes exceeds the ring`);
      ringBell();
      const now = Date.now();
      since ||= now;
      if (now - since >= options.slowMs) {
        post({ type: 'ended', reason: 'slow' });
        stopped = true;
        throw new Ended();
      }
      await ring.waitForSpace(Math.min(250, options.slowMs));
    }
  };

  const nextPage = (after: string | null): Promise<HistoryPage> => {
    if (pending) {
      const page = pending;
      pending = null;
      return Promise.resolve(page);
    }
    post({ type: 'more', after });
    return new Promise((resolve) => (pageWaiter = resolve));
  };

  /** Replays stored messages after lastId, page by page; returns the log position to follow from. */
  const replay = async (includeOwn: boolean): Promise<number> => {
    let first = true;
    for (;;) {
      const page = await nextPage(lastId);
      if (page.gap && first) await write(resetFrame(lastId, options.format));
      first = false;
      for (const m of page.messages) {
        if (lastId !== null && compareIds(m.id, lastId) <= 0) continue;
        if (includeOwn || !own(m.client)) await write(messageFrame(m, options.format));
        lastId = m.id;
      }
      ringBell();
      if (!page.more) return page.fromSeq;
    }
  };

  const deliver = async (event: ChatEvent) => {
    if (event.room !== options.room) return;
    if (event.kind === 'presence') return write(presenceFrame(event, options.format));
    // The log may repeat what the replay already sent (an append racing the history query): ids decide.
    if (lastId !== null && compareIds(event.id, lastId) <= 0) return;
    lastId = event.id;
    if (!own(event.client)) await write(messageFrame(event, options.format));
  };

  /** Follows the log from `seq`; returns when this reader fell so far behind that entries were overwritten. */
  const follow = async (seq: number): Promise<void> => {
    while (!stopped) {
      const published = log.seq;
      if (seq >= published) {
        await log.waitFor(seq);
        continue;
      }
      for (; seq < published; seq++) {
        const bytes = log.read(seq);
        if (!bytes) return;
        await deliver(JSON.parse(decoder.decode(bytes)) as ChatEvent);
      }
      ringBell();
    }
  };

  return {
    async run() {
      await write(retryFrame(options.retryMs));
      const heartbeat = setInterval(() => {
        if (ring.write(encoder.encode(heartbeatFrame))) ringBell();
      }, options.heartbeatMs);
      try {
        // A first connect shows everything recent, the client's own messages too; a resume skips its own.
        let seq = await replay(options.lastEventId === null);
        if (options.fault === 'throw') setTimeout(() => { throw new Error('injected fault'); });
        for (;;) {
          await follow(seq);
          if (stopped) return;
          seq = await replay(false); // fell behind the log: catch up from the store
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
    },
  };
}
