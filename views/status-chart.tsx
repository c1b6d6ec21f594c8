/** @jsxImportSource hono/jsx */
import { formatMs, type LatencyPoint } from './status-snapshot.ts';

const W = 900;
const H = 170;
const PAD = { left: 44, right: 8, top: 10, bottom: 20 };

/** A round top for the y axis (1, 2 or 5 times a power of ten) at or above `ms`. */
export function niceCeiling(ms: number): number {
  if (ms <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(ms));
  for (const step of [1, 2, 5, 10]) if (ms <= step * power) return step * power;
  return 10 * power;
}

/**
 * Fan-out latency p50 and p99 over the last minute, one point per second that saw a latency, drawn on the server
 * as inline SVG (no chart library, no script; colours come from app.css classes, so both themes apply).
 */
export const LatencyChart = ({ points }: { points: LatencyPoint[] }) => {
  const seen = points.filter((p) => p.p99 !== null);
  const top = niceCeiling(Math.max(0, ...seen.map((p) => p.p99!)));
  const last = Math.max(1, points.length - 1);
  const x = (ago: number) => PAD.left + ((last - ago) / last) * (W - PAD.left - PAD.right);
  const y = (ms: number) => PAD.top + (1 - Math.min(ms, top) / top) * (H - PAD.top - PAD.bottom);
  const line = (pick: (p: LatencyPoint) => number | null) =>
    seen.map((p) => `${x(p.ago).toFixed(1)},${y(pick(p)!).toFixed(1)}`).join(' ');
  return (
    <svg
      class="latency-chart"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={`Fan-out latency, last minute: ${seen.length} seconds with messages`}
      data-points={String(seen.length)}
    >
      <line class="axis" x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} />
      <line class="grid" x1={PAD.left} y1={y(top / 2)} x2={W - PAD.right} y2={y(top / 2)} />
      <line class="grid" x1={PAD.left} y1={PAD.top} x2={W - PAD.right} y2={PAD.top} />
      <text class="tick" x={PAD.left - 4} y={PAD.top + 4} text-anchor="end">{formatMs(top)}</text>
      <text class="tick" x={PAD.left - 4} y={y(top / 2) + 4} text-anchor="end">{formatMs(top / 2)}</text>
      <text class="tick" x={PAD.left - 4} y={H - PAD.bottom + 4} text-anchor="end">0</text>
      <text class="tick" x={PAD.left} y={H - 4}>−60 s</text>
      <text class="tick" x={W - PAD.right} y={H - 4} text-anchor="end">now</text>
      {seen.length === 0 ? (
        <text class="tick" x={W / 2} y={H / 2} text-anchor="middle">no messages in the last minute</text>
      ) : null}
      <polyline class="p99" fill="none" points={line((p) => p.p99)} />
      <polyline class="p50" fill="none" points={line((p) => p.p50)} />
      {seen.map((p) => (
        <circle class="p99" cx={x(p.ago).toFixed(1)} cy={y(p.p99!).toFixed(1)} r="2.5" />
      ))}
      {seen.map((p) => (
        <circle class="p50" cx={x(p.ago).toFixed(1)} cy={y(p.p50!).toFixed(1)} r="2.5" />
      ))}
    </svg>
  );
};
