import { FORMATS } from './shm/entry.ts';
import { statusFrame } from '../views/status-frames.ts';
import { MAX_ROOMS, MAX_SLOWEST, type StatusSnapshot } from '../views/status-snapshot.ts';
import type { Store } from '../store/types.ts';
import { STATUS_ROOM, type HubStats } from './hub-api.ts';
import type { FanoutMetrics } from './metrics.ts';
import type { RoomWords } from './shm/room-words.ts';
import type { StreamSession } from './stream-session.ts';

export const SAMPLE_EVERY_MS = 1000;

export interface SamplerParts {
  store: Store;
  rooms: RoomWords;
  metrics: FanoutMetrics;
  /** The open streams, by slot. */
  occupants: readonly (StreamSession | undefined)[];
  stats(): HubStats;
  /** Puts a snapshot's frames (one per format, FORMATS order) into the shared log for the status room. */
  publish(frames: string[]): void;
  /** RSS before the first Worker started. */
  baselineRss: number;
  /** The name the stream in a slot goes by now (a rename changes it; the request keeps the first one). */
  nameOf(room: string, slot: number): string | null;
}

interface Counts {
  at: number;
  messages: number;
  deliveries: number;
  wakes: number;
}

const U32 = 2 ** 32;

/**
 * The status page's sampler: a snapshot of the fan-out once a second, rendered once in every format into the
 * shared log for the status room, where each status stream's own Worker picks it up like any entry. It runs only
 * while a status stream is open: watch() starts it with the first, and the tick after the last one closed stops it
 * (the status room's word is held exactly while a status stream is). Stopped, it costs nothing: no timer, no
 * listener; the hot paths only keep the counters they keep anyway (deliveries, wakes, the latency window).
 */
export function createStatusSampler(parts: SamplerParts) {
  const { rooms, metrics } = parts;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let unsubscribe: (() => void) | null = null;
  let messages = 0; // chat messages into the fan-out, counted only while watched
  let previous: Counts | null = null;
  let taken = 0;
  let lastAt = -Infinity;

  const watched = () => rooms.wordOf(STATUS_ROOM) >= 0;

  const snapshot = (): StatusSnapshot => {
    const stats = parts.stats();
    const perRoom = new Map<string, number>();
    const slowest: { session: StreamSession; slot: number; buffered: number }[] = [];
    let status = 0;
    for (const [slot, session] of parts.occupants.entries()) {
      if (!session) continue;
      const room = session.request.room;
      if (room === STATUS_ROOM) {
        status++;
        continue;
      }
      perRoom.set(room, (perRoom.get(room) ?? 0) + 1);
      const buffered = session.buffered();
      if (slowest.length < MAX_SLOWEST || buffered > slowest.at(-1)!.buffered) {
        slowest.push({ session, slot, buffered });
        slowest.sort((a, b) => b.buffered - a.buffered);
        if (slowest.length > MAX_SLOWEST) slowest.pop();
      }
    }
    const now = performance.now();
    lastAt = now;
    const counts: Counts = { at: now, messages, deliveries: metrics.delivered(), wakes: rooms.wakes() };
    const seconds = previous ? (now - previous.at) / 1000 : 0;
    const rates = previous && seconds > 0
      ? {
          messages: (counts.messages - previous.messages) / seconds,
          deliveries: (counts.deliveries - previous.deliveries) / seconds,
          wakes: ((((counts.wakes - previous.wakes) % U32) + U32) % U32) / seconds,
        }
      : null;
    previous = counts;
    const sorted = [...perRoom].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const rss = process.memoryUsage.rss();
    return {
      snapshot: ++taken,
      at: Date.now(),
      streams: { open: stats.streams - status, connecting: stats.connecting, status },
      rooms: sorted.slice(0, MAX_ROOMS).map(([room, streams]) => ({ room, streams })),
      moreRooms: Math.max(0, sorted.length - MAX_ROOMS),
      workers: { serving: stats.workers, idle: stats.idle, starting: stats.starting, returning: stats.returning, threads: stats.threads },
      rates,
      latency: metrics.recent.read(now),
      memory: { rss, baseline: parts.baselineRss, perThread: stats.threads > 0 ? Math.max(0, rss - parts.baselineRss) / stats.threads : null },
      slowest: slowest.map(({ session, slot, buffered }) => ({
        room: session.request.room,
        // A name, never an address: /status is open to all in open mode, and addresses are for the logs. The name
        // now, after any rename.
        who: parts.nameOf(session.request.room, slot) ?? '(no name)',
        buffered,
      })),
    };
  };

  const stop = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    unsubscribe?.();
    unsubscribe = null;
    previous = null;
  };

  const tick = () => {
    timer = null;
    if (!watched()) return stop();
    const s = snapshot();
    parts.publish(FORMATS.map((f) => statusFrame(s, f)));
    timer = setTimeout(tick, SAMPLE_EVERY_MS);
    timer.unref?.();
  };

  return {
    /**
     * A status stream opened (after its first page was taken): a snapshot now, for it, then one a second. A stream
     * that opens right after a snapshot waits for the next (a crowd of watchers reconnecting takes no extra ones).
     */
    watch() {
      unsubscribe ??= parts.store.subscribe(() => void messages++);
      if (timer && performance.now() - lastAt < SAMPLE_EVERY_MS / 4) return;
      if (timer) clearTimeout(timer);
      tick();
    },
    /** Snapshots taken since the server started: it stands still while nobody watches. */
    taken: () => taken,
    close: stop,
  };
}
