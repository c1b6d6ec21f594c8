/** @jsxImportSource hono/jsx */
import { formatMs, type LatencyPoint } from './status-snapshot.ts';

/** The lines' own units: 0-1000 each way, stretched over the plot (app.css sizes it). */
const UNITS = 1000;

/** A round top for the y axis (1, 2 or 5 times a power of ten) at or above `ms`. */
export function niceCeiling(ms: number): number {
  if (ms <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(ms));
  for (const step of [1, 2, 5, 10]) if (ms <= step * power) return step * power;
  return 10 * power;
}

/**
 * Fan-out latency p50 and p99 over the last minute, one point per second that saw a latency, drawn on the server
 * as inline SVG (no chart library, no script; colours come from app.css classes, so both themes apply). The axis
 * labels are HTML beside the drawing, not text in it: a drawing scaled down to a phone's width would shrink them
 * past reading. The plot stretches to its box: the lines are drawn in their own units and keep their stroke
 * (non-scaling), and the dots are placed in percent, so they stay round.
 */
export const LatencyChart = ({ points }: { points: LatencyPoint[] }) => {
  const seen = points.filter((p) => p.p99 !== null);
  const top = niceCeiling(Math.max(0, ...seen.map((p) => p.p99!)));
  const last = Math.max(1, points.length - 1);
  /** Where a point goes, as a share (0-1) of the plot's width and height from its top left corner. */
  const x = (ago: number) => (last - ago) / last;
  const y = (ms: number) => 1 - Math.min(ms, top) / top;
  const line = (pick: (p: LatencyPoint) => number | null) =>
    seen.map((p) => `${(x(p.ago) * UNITS).toFixed(1)},${(y(pick(p)!) * UNITS).toFixed(1)}`).join(' ');
  const percent = (share: number) => `${(share * 100).toFixed(2)}%`;
  return (
    <div class="chart">
      <div class="chart-y" aria-hidden="true">
        <span class="tick">{formatMs(top)}</span>
        <span class="tick">{formatMs(top / 2)}</span>
        <span class="tick">0</span>
      </div>
      <svg
        class="latency-chart"
        role="img"
        aria-label={`Fan-out latency, last minute: ${seen.length} seconds with messages, on a scale of 0 to ${formatMs(top)}`}
        data-points={String(seen.length)}
      >
        <line class="grid" x1="0" y1="0" x2="100%" y2="0" />
        <line class="grid" x1="0" y1="50%" x2="100%" y2="50%" />
        <line class="axis" x1="0" y1="100%" x2="100%" y2="100%" />
        <svg class="chart-lines" viewBox={`0 0 ${UNITS} ${UNITS}`} preserveAspectRatio="none" width="100%" height="100%">
          <polyline class="p99" fill="none" points={line((p) => p.p99)} />
          <polyline class="p50" fill="none" points={line((p) => p.p50)} />
        </svg>
        {seen.map((p) => (
          <circle class="p99" cx={percent(x(p.ago))} cy={percent(y(p.p99!))} r="2.5" />
        ))}
        {seen.map((p) => (
          <circle class="p50" cx={percent(x(p.ago))} cy={percent(y(p.p50!))} r="2.5" />
        ))}
      </svg>
      {seen.length === 0 ? <p class="chart-empty">no messages in the last minute</p> : null}
      <div class="chart-x" aria-hidden="true">
        <span class="tick">−60 s</span>
        <span class="tick">now</span>
      </div>
    </div>
  );
};
