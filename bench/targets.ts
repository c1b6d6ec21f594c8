/**
 * The fan-out targets, judged from the rows of one bench run: each is met, not met (with the figures), or not
 * measured in this run (with the flags that measure it).
 */
import { baselineOf, type Row } from './report.ts';

interface Verdict {
  target: string;
  status: string;
}

const x = (v: number) => `${v.toFixed(2)}x`;
const ms = (v: number) => `${v.toFixed(0)} ms`;
const mark = (ok: boolean) => (ok ? 'met' : '**not met**');

/** Every threadchat row of a one-room run at N, with its baseline. */
const oneRoom = (rows: Row[], n: number, storm?: boolean) =>
  rows.filter((r) => r.target !== 'baseline' && r.subs === n && r.idle === 0 && (storm === undefined || r.storm === storm))
    .map((r) => ({ r, b: baselineOf(rows, r) }))
    .filter((p): p is { r: Row; b: Row } => p.b !== undefined);

export function judgeTargets(rows: Row[]): Verdict[] {
  const out: Verdict[] = [];
  const each = (name: string, found: string[], how: string) =>
    out.push({ target: name, status: found.length ? found.join('; ') : `not measured (${how})` });

  each('N=1000, one room: ≥ 0.5x baseline, p99 ≤ 100 ms', oneRoom(rows, 1000).map(({ r, b }) => {
    const ratio = r.deliveriesPerSec / b.deliveriesPerSec;
    return `${r.target}: ${mark(ratio >= 0.5 && r.p99 <= 100 && r.lost === 0)} (${x(ratio)}, p99 ${ms(r.p99)}, lost ${r.lost})`;
  }), '--subs 1000');
  each('N=3000, one room: ≥ 0.3x, p99 ≤ 500 ms, every subscriber connected', oneRoom(rows, 3000).map(({ r, b }) => {
    const ratio = r.deliveriesPerSec / b.deliveriesPerSec;
    return `${r.target}: ${mark(ratio >= 0.3 && r.p99 <= 500 && r.failedConnects === 0 && r.lost === 0)} (${x(ratio)}, p99 ${ms(r.p99)}, ${r.failedConnects} failed, lost ${r.lost})`;
  }), '--subs 3000');
  const crowded = rows.filter((r) => r.idle > 0);
  each('a room beside idle streams in other rooms: ≥ 0.7x of the same room alone', crowded.flatMap((r) => {
    const alone = rows.find((a) => a.target === r.target && a.subs === r.subs && a.idle === 0);
    if (!alone) return [];
    const ratio = r.deliveriesPerSec / alone.deliveriesPerSec;
    return [`${r.target} N=${r.subs} + ${r.idle} idle: ${mark(ratio >= 0.7 && r.lost === 0)} (${x(ratio)})`];
  }), '--subs 10 --rooms 100 --idle 990');
  for (const n of [1000, 3000]) {
    each(`connect ${n} at once: every one connected, ≤ 12x the baseline's time`, oneRoom(rows, n, true).map(({ r, b }) => {
      const ratio = r.connectAllMs / b.connectAllMs;
      return `${r.target}: ${mark(ratio <= 12 && r.failedConnects === 0)} (${ms(r.connectAllMs)}, ${x(ratio)}, ${r.failedConnects} failed)`;
    }), `--subs ${n} --storm`);
  }
  each('RSS per stream at N=1000 ≤ 1.5 MB', oneRoom(rows, 1000).filter(({ r }) => Number.isFinite(r.rssPerStreamKb)).map(({ r }) =>
    `${r.target}: ${mark(r.rssPerStreamKb <= 1536)} (${(r.rssPerStreamKb / 1024).toFixed(2)} MB)`), '--subs 1000 without --warm');
  each('no message lost or duplicated', rows.length ? [mark(rows.every((r) => r.lost === 0 && r.duplicates === 0)) +
    ` (lost ${rows.reduce((n, r) => n + r.lost, 0)}, duplicates ${rows.reduce((n, r) => n + r.duplicates, 0)})`] : [], 'any run');
  return out;
}

export function formatTargets(rows: Row[]): string {
  const lines = ['| target | status |', '|---|---|'];
  for (const v of judgeTargets(rows)) lines.push(`| ${v.target} | ${v.status} |`);
  return lines.join('\n');
}
