/** @jsxImportSource hono/jsx */
import { Layout } from './layout.tsx';
import { LatencyChart } from './status-chart.tsx';
import { clock, formatBytes, formatMs, formatRate, type StatusSnapshot } from './status-snapshot.ts';

/** The live part of GET /status: what one snapshot shows. The html status stream swaps it in once a second. */
export const StatusView = ({ s }: { s: StatusSnapshot }) => {
  const w = s.workers;
  return (
    <div class="status-view" data-snapshot={String(s.snapshot)}>
      <section class="stat-card">
        <h2>Streams per room</h2>
        <p class="stat-big">
          <b id="stat-streams">{s.streams.open}</b> open
        </p>
        <table class="stat-table" id="stat-rooms">
          <tbody>
            {s.rooms.map((r) => (
              <tr data-room={r.room}>
                <th scope="row">#{r.room}</th>
                <td>{r.streams}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {s.rooms.length === 0 ? <p class="stat-note">No client streams.</p> : null}
        {s.moreRooms ? <p class="stat-note">and {s.moreRooms} more rooms</p> : null}
        <p class="stat-note">
          Not counted: <b id="stat-watchers">{s.streams.status}</b> watching this page (each has its own Worker too).
        </p>
      </section>
      <section class="stat-card">
        <h2>Workers</h2>
        <dl class="stat-list" id="stat-workers">
          <dt>serving a stream</dt>
          <dd data-stat="serving">{w.serving}</dd>
          <dt>idle in the pool</dt>
          <dd data-stat="idle">{w.idle}</dd>
          <dt>starting</dt>
          <dd data-stat="starting">{w.starting}</dd>
          <dt>returning to the pool</dt>
          <dd data-stat="returning">{w.returning}</dd>
          <dt>threads alive</dt>
          <dd data-stat="threads">{w.threads}</dd>
          <dt>streams waiting for one</dt>
          <dd data-stat="connecting">{s.streams.connecting}</dd>
        </dl>
        <p class="stat-note">
          Memory per stream: <b id="stat-memory">{s.memory.perThread === null ? '–' : formatBytes(s.memory.perThread)}</b>, that
          is, per Worker thread (a stream is one): RSS now ({formatBytes(s.memory.rss)}) less RSS before the first Worker
          started ({formatBytes(s.memory.baseline)}), over the threads alive, idle ones included (what the main thread grew
          since counts in).
        </p>
      </section>
      <section class="stat-card stat-rates">
        <h2>Per second</h2>
        <dl class="stat-list" id="stat-rates">
          <dt>messages</dt>
          <dd data-stat="messages">{formatRate(s.rates?.messages)}</dd>
          <dt>deliveries</dt>
          <dd data-stat="deliveries">{formatRate(s.rates?.deliveries)}</dd>
          <dt>wakes</dt>
          <dd data-stat="wakes">{formatRate(s.rates?.wakes)}</dd>
        </dl>
        <p class="stat-note">
          Messages: chat messages into the fan-out. Deliveries: events handed to streams (these snapshots too).
          Wakes: Workers a wave woke from their room's wait word (not the timed wake each idle Worker takes once a second).
        </p>
      </section>
      <section class="stat-card stat-wide">
        <h2>
          Fan-out latency, last minute: p50 <b id="stat-p50">{formatMs(s.latency.p50)}</b>, p99 <b id="stat-p99">{formatMs(s.latency.p99)}</b>
        </h2>
        <LatencyChart points={s.latency.points} />
        <p class="stat-note">
          <span class="key p50">p50</span> <span class="key p99">p99</span> per second: from an event entering the shared log to its
          frame leaving a Worker's ring for the response ({s.latency.count} timed in the minute).
        </p>
      </section>
      <section class="stat-card stat-wide">
        <h2>Slowest streams</h2>
        {s.slowest.length === 0 ? (
          <p class="stat-note">No client streams.</p>
        ) : (
          <table class="stat-table" id="stat-slowest">
            <thead>
              <tr>
                <th scope="col">room</th>
                <th scope="col">who</th>
                <th scope="col">bytes queued</th>
              </tr>
            </thead>
            <tbody>
              {s.slowest.map((t) => (
                <tr>
                  <td>#{t.room}</td>
                  <td>{t.who}</td>
                  <td>{formatBytes(t.buffered)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p class="stat-note">Bytes waiting for the client in its Worker's ring and its response queue (64 KiB each at most).</p>
      </section>
      <p class="stat-foot">
        Snapshot {s.snapshot} at <time datetime={new Date(s.at).toISOString()}>{clock(s.at)}</time> (server time). Taken once a
        second, and only while someone watches.
      </p>
    </div>
  );
};

export const renderStatusView = (s: StatusSnapshot): string => String(<StatusView s={s} />);

/**
 * GET /status: the shell, live over the html status stream (hx-sse swaps each snapshot in). Without JavaScript it
 * says where the same numbers are.
 */
export const StatusPage = ({ streamUrl }: { streamUrl: string }) => (
  <Layout title="status · threadchat">
    <div class="status-page">
      <header class="bar">
        <a class="brand" href="/" title="threadchat: room #main">
          <span class="logo" aria-hidden="true"></span>
          <span class="brand-name">threadchat</span>
        </a>
        <h1 class="room-name">status</h1>
      </header>
      <main class="status-main">
        <p class="stat-intro">
          Every open stream is written by its own Worker thread. This page is a stream too: its own Worker, on a room no
          client can join.
        </p>
        <noscript>
          <p class="banner">Live updates need JavaScript; or follow them with curl -N '/status/events?format=text'.</p>
        </noscript>
        <div id="status-live" class="status-live" hx-sse:connect={streamUrl} hx-swap="innerHTML">
          <p class="stat-note">Waiting for the first snapshot…</p>
        </div>
      </main>
    </div>
  </Layout>
);
