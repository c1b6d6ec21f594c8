import { describe, expect, it } from 'bun:test';
import { BUN, ROOT } from './helpers.ts';

/**
 * A tiny run of every benchmark, so they cannot rot between the runs that produce docs/bench.md. Not a timed
 * test: it checks that each one starts, measures and reports, never how fast.
 */
function run(args: string[]) {
  const done = Bun.spawnSync([BUN, 'run', ...args], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe', timeout: 120_000 });
  return { code: done.exitCode, out: done.stdout.toString(), err: done.stderr.toString() };
}

describe('the benchmarks', () => {
  for (const script of ['bench', 'bench:wake', 'bench:spawn', 'bench:burst', 'bench:replay']) {
    it(`${script} --help explains itself`, () => {
      const { code, out } = run([script, '--help']);
      expect(code).toBe(0);
      expect(out).toContain(`Usage: bun run ${script}`);
    });
  }

  it('bench runs the baseline and the server and reports every delivery', () => {
    const { code, out, err } = run(['bench', '--subs', '5', '--messages', '5', '--rate', '10', '--rate-seconds', '1', '--targets', 'baseline,memory', '--json']);
    expect(code, err).toBe(0);
    const rows = (JSON.parse(out) as { rows: { target: string; subs: number; failedConnects: number; lost: number; duplicates: number }[] }).rows;
    expect(rows.map((r) => r.target)).toEqual(['baseline', 'memory']);
    for (const row of rows) expect({ target: row.target, subs: row.subs, failed: row.failedConnects, lost: row.lost, duplicates: row.duplicates })
      .toEqual({ target: row.target, subs: 5, failed: 0, lost: 0, duplicates: 0 });
  }, 120_000);

  it('bench --tls runs each target over HTTP and over HTTPS (HTTP/2), and says what TLS adds per delivery', () => {
    const { code, out, err } = run(['bench', '--subs', '5', '--messages', '5', '--rate', '10', '--rate-seconds', '1', '--targets', 'baseline,memory', '--tls']);
    expect(code, err).toBe(0);
    for (const target of ['baseline', 'memory']) for (const transport of ['http', 'https']) expect(out).toMatch(new RegExp(`^\\| ${target} \\| ${transport} \\| 5 \\| 0 \\| 0 \\|`, 'm'));
    expect(out).toContain('What TLS adds per delivery');
    expect(out).toMatch(/^\| memory \| 5 \| \d+ \| \d+ \|/m);
  }, 120_000);

  it('bench:wake measures a wake-all and a wave', () => {
    const { code, out, err } = run(['bench:wake', '--threads', '4', '--rounds', '2', '--kinds', 'futex,wave', '--json']);
    expect(code, err).toBe(0);
    const results = (JSON.parse(out) as { results: { kind: string; cpuPerWakeUs: number }[] }).results;
    expect(results.map((r) => r.kind)).toEqual(['futex', 'wave']);
    for (const r of results) expect(r.cpuPerWakeUs).toBeGreaterThan(0);
  }, 120_000);

  it('bench:replay times a stream catching up on a backlog in each format', () => {
    const { code, out, err } = run(['bench:replay', '--messages', '20', '--bytes', '100', '--targets', 'memory', '--json']);
    expect(code, err).toBe(0);
    const rows = (JSON.parse(out) as { rows: { format: string; mb: number; ms: number }[] }).rows;
    expect(rows.map((r) => r.format)).toEqual(['json', 'text']);
    for (const r of rows) expect(r.mb * r.ms).toBeGreaterThan(0);
  }, 120_000);
});
