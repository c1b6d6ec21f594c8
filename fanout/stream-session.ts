import { byeFrame, type EndReason } from '../views/frames.ts';
import type { Logger } from '../lib/logger.ts';
import type { HistoryPage } from './shm/protocol.ts';
import { createOutRingBuffer, createRingReader } from './shm/out-ring.ts';
import { HubFullError, type OpenRequest } from './hub-api.ts';
import type { LentWorker, StreamMessage, WorkerPool } from './pool.ts';
import type { ReplayPages } from './replay-pages.ts';
import type { StreamSlot } from './stream-slots.ts';
import type { FanoutMetrics } from './metrics.ts';

/** What every session of a hub shares. */
export interface SessionDeps {
  pool: WorkerPool;
  pages: ReplayPages;
  /** The stream's member leaves its room (presence). */
  left(room: string, slot: number): void;
  metrics: FanoutMetrics;
  logger: Logger;
}

const encoder = new TextEncoder();
/** Bytes the response stream may queue before the hub stops draining a ring (then the ring fills: backpressure). */
const STREAM_HIGH_WATER = 64 * 1024;

/**
 * One open stream on the main thread: the Worker it borrowed from the pool, the ring that Worker writes, and the
 * response the ring is drained into. It answers its Worker's requests (history pages) and ends once, whoever ends
 * it (the client, the Worker, the hub), giving back its Worker and its slot.
 */
export class StreamSession {
  private readonly ring: ReturnType<typeof createRingReader>;
  private readonly worker: LentWorker;
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  private ended = false;
  /** Its Worker wrote its first bytes (until then it counts as connecting). */
  private started = false;

  /**
   * Borrows a Worker and starts the stream on it with the replay's first page. Throws HubFullError when no thread
   * can start (out of threads, descriptors or memory): this stream is refused, the others go on.
   */
  constructor(private readonly deps: SessionDeps, private readonly slot: StreamSlot<StreamSession>, readonly request: OpenRequest, first: HistoryPage) {
    const out = createOutRingBuffer();
    this.ring = createRingReader(out);
    try {
      this.worker = deps.pool.acquire({ message: (message) => void this.onMessage(message), error: (error) => this.end('error', error.message) });
    } catch (error) {
      throw new HubFullError(`cannot start a thread for this stream (${String(error)})`);
    }
    slot.connecting();
    slot.fill(this);
    const { history: _h, name: _n, peer: _p, address: _a, ...options } = request;
    this.worker.post({ type: 'open', out, options: { ...options, slot: slot.index, roomWord: slot.roomWord, clientNo: slot.clientNo }, page: first });
  }

  /** The response body: pulled by the server as the socket takes bytes, cancelled when the client goes. */
  readable(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => void (this.controller = controller),
        pull: () => this.pump(),
        cancel: () => this.end('closed'),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: STREAM_HIGH_WATER }),
    );
  }

  /** Moves the ring's bytes into the response while the response has room; `force` ignores the room (at the end). */
  pump(force = false) {
    const controller = this.controller;
    if (!controller) return;
    try {
      while (force || (controller.desiredSize ?? 0) > 0) {
        const chunk = this.ring.drain();
        if (!chunk) break;
        if (!this.started) this.markStarted();
        controller.enqueue(chunk);
      }
    } catch (error) {
      this.end('closed', String(error)); // the response can't be written: this subscriber is gone
    }
    this.deps.metrics.drained(this.ring);
  }

  /** Bytes held for the client: in the ring, and queued in the response. */
  buffered(): number {
    return this.ring.used() + STREAM_HIGH_WATER - (this.controller?.desiredSize ?? STREAM_HIGH_WATER);
  }

  /**
   * Ends the stream once: what is in the ring goes out, then a `bye` (not for `closed`: the client went, or drop()
   * acts as if it had), then the Worker goes back to the pool and the slot to the registry.
   */
  end(reason: EndReason, detail?: string) {
    if (this.ended) return;
    this.ended = true;
    this.markStarted();
    const { deps, request } = this;
    deps.metrics.ended(reason);
    this.pump(true);
    try {
      if (reason !== 'closed' && reason !== 'done') this.controller?.enqueue(encoder.encode(byeFrame(reason, request.format)));
      this.controller?.close();
    } catch {
      // already closed by the client
    }
    if (reason === 'error') deps.pool.discard(this.worker);
    else deps.pool.recycle(this.worker);
    this.slot.release();
    deps.left(request.room, this.slot.index);
    const write = reason === 'error' ? deps.logger.warn : deps.logger.info;
    write(`Closed connection from ${request.peer}`, { room: request.room, reason, ...(detail ? { detail } : {}) });
  }

  private markStarted() {
    this.started = true;
    this.slot.started();
  }

  private async onMessage(message: StreamMessage) {
    switch (message.type) {
      case 'more':
        try {
          const next = await this.deps.pages(this.request, message.after);
          if (!this.ended) this.worker.post({ type: 'page', page: next });
        } catch (error) {
          this.end('error', String(error));
        }
        break;
      case 'ended':
        this.end(message.reason, message.detail);
        break;
      default:
        message satisfies never;
    }
  }
}
