/** Figures of one target at one subscriber count. Times in ms. */
export interface Row {
  target: string;
  /** http: plain HTTP/1.1; https: TLS, HTTP/2 to the subscribers (--tls). */
  transport: 'http' | 'https';
  subs: number;
  /** Idle streams held in other rooms meanwhile (0: the room was alone). */
  idle: number;
  /** The N subscribers connected all at once (else 50 at a time). */
  storm: boolean;
  failedConnects: number;
  connectAllMs: number;
  connectP50: number;
  connectP99: number;
  pacedConnectP99: number;
  deliveriesPerSec: number;
  p50: number;
  p99: number;
  max: number;
  steadyP50: number;
  steadyP99: number;
  rssPerStreamKb: number;
  rssMb: number;
  lost: number;
  duplicates: number;
}

export const percentile = (sorted: ArrayLike<number>, q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;

const num = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const ratio = (v: number, base: number | undefined) => (base && Number.isFinite(v) && Number.isFinite(base) && base !== 0 ? ` (${(v / base).toFixed(2)}x)` : '');

/** The baseline row of the same N over the same transport (none for the baseline itself). */
export const baselineOf = (rows: Row[], r: Row) =>
  r.target === 'baseline' ? undefined : rows.find((x) => x.target === 'baseline' && x.subs === r.subs && x.transport === r.transport);

/** A Markdown table; every figure of a non-baseline row carries its ratio to the baseline at the same N. */
export function formatTable(rows: Row[]): string {
  const head = '| target | transport | N | idle | failed | deliveries/s | p50 ms | p99 ms | max ms | steady p99 ms | connect all ms | connect p99 ms | paced connect p99 ms | RSS/stream KB | lost | dup |';
  const lines = [head, head.replace(/[^|]+/g, '---')];
  for (const r of rows) {
    const base = baselineOf(rows, r);
    lines.push(
      `| ${r.target} | ${r.transport} | ${r.subs} | ${r.idle} | ${r.failedConnects} | ${num(r.deliveriesPerSec, 0)}${ratio(r.deliveriesPerSec, base?.deliveriesPerSec)} | ${num(r.p50)}${ratio(r.p50, base?.p50)} | ${num(r.p99)}${ratio(r.p99, base?.p99)} | ${num(r.max)} | ${num(r.steadyP99)}${ratio(r.steadyP99, base?.steadyP99)} | ${num(r.connectAllMs, 0)}${ratio(r.connectAllMs, base?.connectAllMs)} | ${num(r.connectP99)}${ratio(r.connectP99, base?.connectP99)} | ${num(r.pacedConnectP99)} | ${num(r.rssPerStreamKb, 0)}${ratio(r.rssPerStreamKb, base?.rssPerStreamKb)} | ${r.lost} | ${r.duplicates} |`,
    );
  }
  return lines.join('\n');
}

/**
 * What TLS costs per delivery (--tls): each target at each N over plain HTTP and over HTTPS in the same run, the
 * wall time of one delivery in the back-to-back burst (1 / deliveries per second, both cores busy), and the
 * difference.
 */
export function formatTlsCost(rows: Row[]): string {
  const lines = ['| target | N | deliveries/s http | deliveries/s https | µs per delivery http | µs per delivery https | TLS adds µs per delivery | p99 ms http | p99 ms https |'];
  lines.push(lines[0]!.replace(/[^|]+/g, '---'));
  for (const plain of rows.filter((r) => r.transport === 'http' && r.idle === 0)) {
    const tls = rows.find((r) => r.transport === 'https' && r.target === plain.target && r.subs === plain.subs && r.idle === 0);
    if (!tls) continue;
    const us = (r: Row) => 1e6 / r.deliveriesPerSec;
    lines.push(`| ${plain.target} | ${plain.subs} | ${num(plain.deliveriesPerSec, 0)} | ${num(tls.deliveriesPerSec, 0)} | ${num(us(plain), 2)} | ${num(us(tls), 2)} | ${num(us(tls) - us(plain), 2)} | ${num(plain.p99)} | ${num(tls.p99)} |`);
  }
  return lines.join('\n');
}
