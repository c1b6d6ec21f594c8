import { sseFrame, type StreamFormat } from './frames.ts';
import { ndjsonLine, rawLine } from './plain-frames.ts';
import { renderStatusView } from './status.tsx';
import { clock, formatBytes, formatMs, formatRate, type StatusSnapshot } from './status-snapshot.ts';

/**
 * What the status stream (GET /status/events) carries: one snapshot of the server a second, as an unnamed event
 * without an id (nothing to resume: the next snapshot says it all), in json (`StatusSnapshot`), html (the page's
 * live part, views/status.tsx) or text (one line).
 */

/** A snapshot as one terminal line. */
export function statusLine(s: StatusSnapshot): string {
  const rooms = s.rooms.map((r) => `#${r.room} ${r.streams}`).join(', ') + (s.moreRooms ? `, ${s.moreRooms} more rooms` : '');
  const w = s.workers;
  const rates = s.rates ? `${formatRate(s.rates.messages)} msg/s, ${formatRate(s.rates.deliveries)} deliveries/s, ${formatRate(s.rates.wakes)} wakes/s` : 'rates next second';
  const per = s.memory.perThread === null ? '–' : formatBytes(s.memory.perThread);
  return `[${clock(s.at)}] status ${s.snapshot}: ${s.streams.open} streams (${rooms || 'no rooms'}), ${s.streams.status} watching status; ` +
    `Workers ${w.serving} serving, ${w.idle} idle, ${w.starting} starting; ${rates}; ` +
    `fan-out p50 ${formatMs(s.latency.p50)}, p99 ${formatMs(s.latency.p99)}; ${per} per Worker thread`;
}

/** The status event in one format; the publisher puts all three in the log once per snapshot. */
export function statusFrame(s: StatusSnapshot, format: StreamFormat): string {
  switch (format) {
    case 'json':
      return sseFrame(JSON.stringify(s));
    case 'html':
      return sseFrame(renderStatusView(s));
    case 'text':
      return sseFrame(statusLine(s));
    case 'raw':
      return rawLine(statusLine(s));
    case 'ndjson':
      return ndjsonLine('status', undefined, s);
  }
}
