import { byeFrame, messageFrame, resetFrame, type EndReason } from '../views/frames.ts';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/types.ts';
import { sharedPresenceOf } from '../store/types.ts'; // presence across instances (issue 7)
import {
  controlInts, CTL_DOORBELL, CTL_MAIN_WAITING, CTL_READY, DEFAULT_LOG_SIZES, type HistoryPage,
  type LogSizes, type StreamOptions,
} from './shm/protocol.ts';
import { preferredWaitKind, type WaitKind } from '../runtime/wait-word.ts';
import { createRoomWords } from './shm/room-words.ts';
import { createNumbering } from './shm/numbering.ts';
import { createLogWriter } from './shm/shared-log.ts';
import { createOutRingBuffer, createRingReader } from './shm/out-ring.ts';
import { createPresence } from './presence.ts';
import { createWorkerPool, type LentWorker, type StreamMessage } from './pool.ts';
import { createFlowControl } from './flow-control.ts';
import { createPublisher } from './publisher.ts';
import { NO_FANOUT_METRICS, type FanoutMetrics } from './metrics.ts';

export interface HubOptions {
  store: Store;
  logger: Logger;
  /** Most streams open at once (each has a Worker); past it `open` throws HubFullError. */
  maxStreams: number;
  /** Most streams open at once from one IP address. */
  maxStreamsPerIp?: number;
  /** Messages per history page sent to a Worker during a replay. */
  replayPage: number;
  /** Idle Workers kept ready (default 16 at the least, 64 at the most). */
  pool?: { minIdle: number; maxIdle: number };
  logSizes?: LogSizes;
  /** Deliveries, fan-out latency and ended streams, for /metrics. */
  metrics?: FanoutMetrics;
  /**
   * Streams at once whose Worker has not written its first bytes yet (a connect storm waits on thread starts);
   * past it `open` refuses with a HubFullError that says to retry in a second, instead of a connect that hangs.
   */
  maxConnecting?: number;
  /** How Workers block on their room's word (default: futex(2) where Bun can call it, else Atomics). */
  wait?: WaitKind;
}

export interface OpenRequest extends Omit<StreamOptions, 'slot' | 'roomWord' | 'clientNo'> {
  /** Recent messages to replay when there is no lastEventId. */
  history: number;
  name: string | null;
  peer: string;
  /** The client's IP address, counted against maxStreamsPerIp. */
  address: string;
}

export class HubFullError extends Error {
  override name = 'HubFullError';
  /** Seconds after which a retry is likely to succeed (the 503's Retry-After). */
  constructor(message: string, readonly retryAfter = 5) {
    super(message);
  }
}

interface Conn {
  slot: number;
  request: OpenRequest;
  /** Borrowed from the pool, which hands this stream's messages to onWorkerMessage until end(). */
  worker: LentWorker;
  ring: ReturnType<typeof createRingReader>;
  controller: ReadableStreamDefaultController<Uint8Array> | null;
  ended: boolean;
  /** Its Worker wrote its first bytes (until then it counts as connecting). */
  started: boolean;
}

const encoder = new TextEncoder();
const PRESENCE_EVERY_MS = 250;
/** Bytes the response stream may queue before the hub stops draining a ring (then the ring fills: backpressure). */
const STREAM_HIGH_WATER = 64 * 1024;

/**
 * The main thread's side of the fan-out: renders each event once into the shared log, gives every stream a
 * Worker of its own (from a warm pool), and moves the Workers' frames from their rings to the sockets on one
 * doorbell.
 */
export function createHub(options: HubOptions) {
  const { store, logger } = options;
  const metrics = options.metrics ?? NO_FANOUT_METRICS;
  const log = createLogWriter(options.logSizes ?? DEFAULT_LOG_SIZES);
  const control = new SharedArrayBuffer(4 * controlInts(options.maxStreams));
  const ctl = new Int32Array(control);
  const rooms = createRoomWords(options.maxStreams, options.wait ?? preferredWaitKind());
  const clients = createNumbering(); // client ids with a stream here: a Worker knows its own messages by number
  const pool = createWorkerPool({
    init: { log: log.buffer, logSizes: log.sizes, rooms: rooms.buffer, control, wait: rooms.kind },
    ...(options.pool ?? { minIdle: 16, maxIdle: 64 }),
    onSpawnTrouble: (error) =>
      error
        ? logger.error('Cannot start stream threads: new streams get 503 until threads can start again', { error: error.message })
        : logger.info('Stream threads start again'),
  });
  const conns: (Conn | undefined)[] = [];
  const freeSlots: number[] = [];
  const perAddress = new Map<string, number>(); // open streams per IP; an address leaves the map at 0
  let open = 0;
  let connecting = 0;
  let running = true;
  const started = (conn: Conn) => {
    if (conn.started) return;
    conn.started = true;
    connecting--;
  };

  const flow = createFlowControl(new Int32Array(rooms.buffer), metrics.held);
  const presence = createPresence(sharedPresenceOf(store));
  const publisher = createPublisher({
    log,
    rooms,
    appended: flow.appended,
    clientNo: (client) => (client === null ? -1 : clients.of(client)),
    metrics,
    presenceEveryMs: PRESENCE_EVERY_MS,
    members: presence.get,
  });
  presence.onChange(publisher.presence);
  const unsubscribe = store.subscribe(publisher.message);

  /** Moves a ring's bytes into its response while the response has room; `force` ignores the room (at the end). */
  const pump = (conn: Conn, force = false) => {
    const controller = conn.controller;
    if (!controller) return;
    try {
      while (force || (controller.desiredSize ?? 0) > 0) {
        const chunk = conn.ring.drain();
        if (!chunk) break;
        started(conn);
        controller.enqueue(chunk);
      }
    } catch (error) {
      end(conn, 'closed', String(error)); // the response can't be written: this subscriber is gone
    }
    metrics.drained(conn.ring);
  };

  /** Drains the rings whose ready bit is set, a whole int (32 slots) at a time; true when any was. */
  const drainReady = () => {
    let any = false;
    const ints = CTL_READY + Math.ceil(conns.length / 32);
    for (let at = CTL_READY; at < ints; at++) {
      if (ctl[at] === 0) continue;
      // Taken before draining: a frame written after this rings again, so none is left behind.
      let bits = Atomics.exchange(ctl, at, 0);
      any ||= bits !== 0;
      const base = (at - CTL_READY) * 32;
      while (bits !== 0) {
        const bit = 31 - Math.clz32(bits);
        bits &= ~(1 << bit);
        const conn = conns[base + bit];
        if (conn) pump(conn);
      }
    }
    return any;
  };

  const drainLoop = async () => {
    while (running) {
      const seen = Atomics.load(ctl, CTL_DOORBELL);
      Atomics.store(ctl, CTL_MAIN_WAITING, 1);
      if (drainReady()) {
        Atomics.store(ctl, CTL_MAIN_WAITING, 0);
        await new Promise<void>((resolve) => setImmediate(resolve)); // requests and sockets run between rounds
        continue;
      }
      const wait = Atomics.waitAsync(ctl, CTL_DOORBELL, seen);
      if (wait.async) await wait.value;
    }
  };
  void drainLoop();

  /**
   * The next page of a replay, rendered in the stream's format. A first connect (after = null) shows the
   * recent history with the client's own messages; a resume leaves those out, as the client already has them.
   */
  const page = async (request: OpenRequest, after: string | null): Promise<HistoryPage> => {
    const fromSeq = log.seq; // taken before the query: whatever the query misses, the log has
    let result = after === null
      ? { messages: await store.recent(request.room, request.history), more: false, gap: false }
      : await store.since(request.room, after, options.replayPage);
    // Not an id of this store (it was reset since): say so, then show the recent history as to a newcomer.
    const restart = result.unknown === true;
    if (restart) result = { messages: await store.recent(request.room, request.history), more: false, gap: false };
    const reset = restart ? 'unknown' : result.gap ? 'gap' : null;
    const frames: string[] = reset ? [resetFrame(after, request.format, reset)] : [];
    for (const m of result.messages) {
      if (after !== null && !restart && request.client !== null && m.client === request.client) continue;
      frames.push(messageFrame(m, request.format));
    }
    const encoded = frames.map((f) => encoder.encode(f));
    const bytes = new Uint8Array(encoded.reduce((n, f) => n + f.length, 0));
    const ends: number[] = [];
    let at = 0;
    for (const f of encoded) {
      bytes.set(f, at);
      ends.push((at += f.length));
    }
    return { frames: bytes, ends, lastId: result.messages.at(-1)?.id ?? null, more: result.more, fromSeq, restart };
  };

  const countAddress = (address: string, delta: number) => {
    const n = (perAddress.get(address) ?? 0) + delta;
    if (n > 0) perAddress.set(address, n);
    else perAddress.delete(address);
  };

  /** Gives back what open() took for a stream: its slot, its count, its room word and client number. */
  function unreserve(slot: number, request: OpenRequest) {
    freeSlots.push(slot);
    open--;
    countAddress(request.address, -1);
    rooms.release(request.room);
    if (request.client !== null) clients.release(request.client);
  }

  function end(conn: Conn, reason: EndReason, detail?: string) {
    if (conn.ended) return;
    conn.ended = true;
    started(conn);
    metrics.ended(reason);
    pump(conn, true);
    try {
      if (reason !== 'closed') conn.controller?.enqueue(encoder.encode(byeFrame(reason, conn.request.format)));
      conn.controller?.close();
    } catch {
      // already closed by the client
    }
    if (reason === 'error') pool.discard(conn.worker);
    else pool.recycle(conn.worker);
    conns[conn.slot] = undefined;
    unreserve(conn.slot, conn.request);
    presence.leave(conn.request.room, conn.slot);
    const write = reason === 'error' ? logger.warn : logger.info;
    write(`Closed connection from ${conn.request.peer}`, { room: conn.request.room, reason, ...(detail ? { detail } : {}) });
  }

  const onWorkerMessage = async (conn: Conn, message: StreamMessage) => {
    switch (message.type) {
      case 'more':
        try {
          const next = await page(conn.request, message.after);
          if (!conn.ended) conn.worker.post({ type: 'page', page: next });
        } catch (error) {
          end(conn, 'error', String(error));
        }
        break;
      case 'ended':
        end(conn, message.reason, message.detail);
        break;
      default:
        message satisfies never;
    }
  };

  return {
    /** Opens a stream: its Worker replays history, then follows the room. Throws HubFullError at maxStreams. */
    async open(request: OpenRequest): Promise<ReadableStream<Uint8Array>> {
      if (!running) throw new HubFullError('the server is shutting down');
      if (open >= options.maxStreams) throw new HubFullError(`${open} streams are open, the most this server allows`);
      if ((perAddress.get(request.address) ?? 0) >= (options.maxStreamsPerIp ?? Infinity)) {
        throw new HubFullError(`your address has ${options.maxStreamsPerIp} streams open, the most allowed`);
      }
      if (connecting >= (options.maxConnecting ?? Infinity)) {
        throw new HubFullError(`${connecting} streams are waiting for their thread to start`, 1);
      }
      const slot = freeSlots.pop() ?? conns.length;
      open++;
      countAddress(request.address, 1);
      conns[slot] = undefined;
      // Before the history query: every entry of the room from the page's log position on carries this word.
      const roomWord = rooms.acquire(request.room);
      const clientNo = request.client === null ? -1 : clients.acquire(request.client);
      let first: HistoryPage;
      try {
        first = await page(request, request.lastEventId);
      } catch (error) {
        unreserve(slot, request);
        throw error;
      }
      const out = createOutRingBuffer();
      let worker: LentWorker;
      let conn: Conn; // set before the Worker can answer: its messages arrive in later turns
      try {
        worker = pool.acquire({ message: (message) => void onWorkerMessage(conn, message), error: (error) => end(conn, 'error', error.message) });
      } catch (error) {
        // Out of threads, descriptors or memory: refuse this stream (503), keep serving the others.
        unreserve(slot, request);
        throw new HubFullError(`cannot start a thread for this stream (${String(error)})`);
      }
      conn = { slot, request, worker, ring: createRingReader(out), controller: null, ended: false, started: false };
      connecting++;
      conns[slot] = conn;
      const { history: _h, name: _n, peer: _p, address: _a, ...streamOptions } = request;
      worker.post({ type: 'open', out, options: { ...streamOptions, slot, roomWord, clientNo }, page: first });
      presence.join(request.room, slot, { name: request.name, client: request.client });
      logger.info(`Accepted connection from ${request.peer}`, { room: request.room, streams: open });
      return new ReadableStream<Uint8Array>(
        {
          start: (controller) => void (conn.controller = controller),
          pull: () => pump(conn),
          cancel: () => end(conn, 'closed'),
        },
        new ByteLengthQueuingStrategy({ highWaterMark: STREAM_HIGH_WATER }),
      );
    },
    members: (room: string) => presence.get(room),
    /** Null, or a promise to await before answering a POST into `room`: its streams are behind (flow-control.ts). */
    caughtUp: (room: string) => flow.caughtUp(rooms.wordOf(room)),
    /** The client's streams in `room` take `name`; false when it has none there. */
    noteName: (room: string, client: string | null, name: string) => (client ? presence.rename(room, client, name) : false),
    /** Ends every stream of a room at once without a final event, as a dropped connection would (a test hook). */
    drop(room: string) {
      for (const conn of conns) if (conn?.request.room === room) end(conn, 'closed', 'dropped');
    },
    /** `threads`: Worker threads alive (counted by their exit events); `idle`: pooled; `workers`: the rest, serving streams. */
    stats: () => {
      const { threads, idle, starting, returning } = pool.stats();
      // Bytes held for clients: in their rings, and queued in their responses (bounded per stream by design).
      let buffered = 0;
      for (const conn of conns) if (conn) buffered += conn.ring.used() + STREAM_HIGH_WATER - (conn.controller?.desiredSize ?? STREAM_HIGH_WATER);
      return { streams: open, connecting, workers: threads - idle - starting, idle, starting, returning, threads, buffered, logSeq: log.seq, ...rooms.stats(), wait: rooms.kind };
    },
    /** Ends every stream with a final `bye` event and stops the drain loop and the pool. */
    async close() {
      running = false;
      unsubscribe();
      for (const conn of conns) if (conn) end(conn, 'shutdown');
      pool.close();
      publisher.close();
      flow.close();
      rooms.close();
      Atomics.add(ctl, CTL_DOORBELL, 1);
      Atomics.notify(ctl, CTL_DOORBELL);
    },
  };
}

export type Hub = ReturnType<typeof createHub>;
