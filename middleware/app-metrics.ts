/**
 * Everything GET /metrics reports, in one place: names, help, units and where each is counted.
 */
import { STORE_OPS } from '../store/instrumented.ts';
import { createFanoutMetrics } from '../fanout/metrics.ts';
import type { HubStats } from '../fanout/hub-api.ts';
import type { EndReason } from '../views/frames.ts';
import { createRegistry } from '../lib/metrics.ts';

const END_REASONS: readonly EndReason[] = ['closed', 'slow', 'error', 'shutdown', 'revoked', 'done'];
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

export function createAppMetrics() {
  const registry = createRegistry();
  let hub: HubStats = { streams: 0, connecting: 0, workers: 0, idle: 0, starting: 0, returning: 0, threads: 0, buffered: 0, logSeq: 0, rooms: 0, waves: 0, statusSnapshots: 0, wait: 'atomics' };
  const started = Date.now() / 1000;

  registry.gauge('threadchat_streams_open', 'SSE streams open on this instance', () => hub.streams);
  registry.gauge('threadchat_worker_threads', 'stream Worker threads alive (serving, idle in the pool, or returning to it)', () => hub.threads);
  registry.gauge('threadchat_worker_threads_idle', 'stream Worker threads waiting in the pool for a stream', () => hub.idle);
  registry.gauge('threadchat_rooms_followed', 'rooms with at least one stream open on this instance (each has a wait word)', () => hub.rooms);
  registry.gauge('threadchat_room_waves_started', 'waves of wakes the main thread started (an event in a room with no wave running; the Workers relay the rest)', () => hub.waves);
  registry.gauge('threadchat_status_snapshots', 'snapshots the /status page sampler took; it stands still while no status stream is open', () => hub.statusSnapshots);
  registry.gauge('threadchat_stream_buffered_bytes', 'bytes waiting for clients in stream rings and response queues', () => hub.buffered);
  const messagesAppended = registry.counter('threadchat_messages_appended_total', 'messages this instance stored (appends that succeeded)');
  const deliveries = registry.counter(
    'threadchat_deliveries_total',
    'SSE events (messages, presence, replayed history; not heartbeats) handed to client streams, counted when the main thread drains a Worker ring',
  );
  const ended = registry.counters('threadchat_streams_ended_total', 'streams ended, by reason; slow: dropped because the client did not read for --slow-ms', 'reason', END_REASONS);
  const post = registry.histogram(
    'threadchat_post_duration_seconds',
    'POST /rooms/:room/messages that stored a message: from the request reaching the app to its response (includes the durable append)',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  );
  const fanout = registry.histogram(
    'threadchat_fanout_duration_seconds',
    'from an event entering the shared log to its frame being drained into a stream response (per stream and drain, newest event)',
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  );
  const held = registry.counter(
    'threadchat_posts_held_total',
    'POSTs whose answer waited for the streams of their room to catch up (flow control: a flood cannot queue ahead of the streams)',
  );
  const storeErrors = registry.counters('threadchat_store_errors_total', 'store calls that failed, by operation', 'op', STORE_OPS);
  const responses = registry.counters('threadchat_http_responses_total', 'HTTP responses by status class (an SSE stream counts when it starts)', 'class', STATUS_CLASSES);
  registry.gauge('process_resident_memory_bytes', 'resident set size of the process', () => process.memoryUsage.rss());
  registry.gauge('process_start_time_seconds', 'start time of the process, seconds since the epoch', () => started);

  return {
    /** For the store wrapper (store/instrumented.ts). */
    store: { appended: messagesAppended, errors: storeErrors },
    /** For the hub (fanout/metrics.ts). */
    fanout: createFanoutMetrics({ deliveries, latency: fanout, ended, held }),
    post,
    responses,
    /** The text format, with the gauges read from `stats` (one hub.stats() per scrape). */
    render(stats: HubStats): string {
      hub = stats;
      return registry.render();
    },
  };
}

export type AppMetrics = ReturnType<typeof createAppMetrics>;

export const statusClass = (status: number): StatusClass =>
  status < 200 ? '1xx' : status < 300 ? '2xx' : status < 400 ? '3xx' : status < 500 ? '4xx' : '5xx';
