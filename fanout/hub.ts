import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/types.ts';
import { sharedPresenceOf } from '../store/types.ts'; // presence across instances (issue 7)
import { controlInts, DEFAULT_LOG_SIZES, type LogSizes } from './shm/protocol.ts';
import { preferredWaitKind, type WaitKind } from '../runtime/wait-word.ts';
import { createRoomWords } from './shm/room-words.ts';
import { createNumbering } from './shm/numbering.ts';
import { createLogWriter } from './shm/shared-log.ts';
import { HubFullError, STATUS_ROOM, type Hub, type OpenRequest } from './hub-api.ts';
import { createPresence } from './presence.ts';
import { createWorkerPool, type PoolOptions } from './pool.ts';
import { createFlowControl } from './flow-control.ts';
import { createPublisher } from './publisher.ts';
import { createReplayPages } from './replay-pages.ts';
import { createStreamSlots } from './stream-slots.ts';
import { StreamSession, type SessionDeps } from './stream-session.ts';
import { startReadyDrain } from './ready-drain.ts';
import { NO_FANOUT_METRICS, type FanoutMetrics } from './metrics.ts';
import { createStatusSampler } from './status-sampler.ts';

export interface HubOptions {
  store: Store;
  logger: Logger;
  /** Most streams open at once (each has a Worker); past it `open` throws HubFullError. */
  maxStreams: number;
  /** Most streams open at once from one IP address. */
  maxStreamsPerIp?: number;
  /** Messages per history page sent to a Worker during a replay. */
  replayPage: number;
  /** Idle Workers kept ready (default 16 at the least, 64 at the most), and the thread budget the pool keeps within. */
  pool?: Pick<PoolOptions, 'minIdle' | 'maxIdle' | 'maxWorkers' | 'canSpawn'>;
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

const PRESENCE_EVERY_MS = 250;
const TYPING_EVERY_MS = 250;

/**
 * The main thread's side of the fan-out, put together: the shared log and room words, the publisher that writes
 * the store's events into the log, presence, the warm Worker pool, the stream slots, and the drain loop that
 * moves the Workers' frames from their rings to the responses. Each stream is a StreamSession.
 */
export function createHub(options: HubOptions): Hub {
  const { store, logger } = options;
  const metrics = options.metrics ?? NO_FANOUT_METRICS;
  const baselineRss = process.memoryUsage.rss(); // before any Worker: the status page's memory per thread is above it
  const log = createLogWriter(options.logSizes ?? DEFAULT_LOG_SIZES);
  const control = new SharedArrayBuffer(4 * controlInts(options.maxStreams));
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
  const slots = createStreamSlots<StreamSession>(options, rooms, clients);
  const pages = createReplayPages(store, log, options.replayPage);

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
    typingEveryMs: TYPING_EVERY_MS,
  });
  presence.onChange(publisher.presence);
  const shared = sharedPresenceOf(store);
  shared?.onRemoteTyping(publisher.typing);
  const unsubscribe = store.subscribe(publisher.message);
  const stopRemovals = store.onRemoved(publisher.removed);
  const stopEdits = store.onEdited(publisher.edited);
  const stopDrain = startReadyDrain(new Int32Array(control), slots.occupants);
  const sessionDeps: SessionDeps = { pool, pages, left: presence.leave, metrics, logger };
  let running = true;

  const hub: Hub = {
    async open(request: OpenRequest) {
      if (!running) throw new HubFullError('the server is shutting down');
      // reserve() takes the room's word before the history query: every entry of the room from the page's log
      // position on carries it, so what the query misses the Worker finds in the log.
      const slot = slots.reserve(request);
      let session: StreamSession;
      try {
        const first = await pages(request, request.lastEventId);
        session = new StreamSession(sessionDeps, slot, request, first);
      } catch (error) {
        slot.release();
        throw error;
      }
      // A status stream is nobody's presence, here or on other instances: it starts the sampler instead.
      if (request.room === STATUS_ROOM) sampler.watch();
      else presence.join(request.room, slot.index, { name: request.name, client: request.client });
      logger.info(`Accepted connection from ${request.peer}`, { room: request.room, streams: slots.stats().open });
      return session.readable();
    },
    members: (room) => presence.get(room),
    caughtUp: (room) => flow.caughtUp(rooms.wordOf(room)),
    renameMember: (room, client, name) => (client ? presence.renameEverywhere(room, client, name) : false),
    typing(room, client, name) {
      publisher.typing(room, client, name);
      shared?.typingElsewhere(room, client, name);
    },
    revoke(subject, session) {
      let ended = 0;
      for (const stream of slots.occupants) {
        const owner = stream?.request.owner;
        if (!owner || (session !== undefined ? owner.session !== session : owner.subject !== subject)) continue; // a digest names one session
        stream!.end('revoked');
        ended++;
      }
      return ended;
    },
    drop(room) {
      for (const session of slots.occupants) if (session?.request.room === room) session.end('closed', 'dropped');
    },
    stats() {
      const { threads, idle, starting, returning } = pool.stats();
      const { open, connecting } = slots.stats();
      // Bounded per stream by design: a ring and a response queue each.
      let buffered = 0;
      for (const session of slots.occupants) if (session) buffered += session.buffered();
      return { streams: open, connecting, workers: threads - idle - starting, idle, starting, returning, threads, buffered, logSeq: log.seq, ...rooms.stats(), statusSnapshots: sampler.taken(), wait: rooms.kind };
    },
    async close() {
      running = false;
      clearInterval(expiry);
      unsubscribe();
      stopRemovals();
      stopEdits();
      sampler.close();
      for (const session of slots.occupants) session?.end('shutdown');
      pool.close();
      publisher.close();
      flow.close();
      rooms.close();
      stopDrain();
    },
  };
  // A stream ends when its credential does (a session's absolute end, a JWT's exp), within a second.
  const expiry = setInterval(() => {
    const now = Date.now();
    for (const stream of slots.occupants) if (stream && (stream.request.owner?.until ?? Infinity) <= now) stream.end('revoked');
  }, 1000);
  (expiry as { unref?: () => void }).unref?.();
  const sampler = createStatusSampler({
    store, rooms, metrics, occupants: slots.occupants, stats: hub.stats, baselineRss, nameOf: presence.nameOf,
    publish: (frames) => publisher.status(STATUS_ROOM, frames),
  });
  return hub;
}
