/** Starts the bench's servers on free loopback ports and stops them (by PID) when asked or when the bench exits. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalCertificate } from '../scripts/local-cert.ts';

const ROOT = join(import.meta.dir, '..');
const children = new Set<ReturnType<typeof Bun.spawn>>();
const stopAll = () => children.forEach((c) => c.kill('SIGKILL'));
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

export interface Started {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * `target`: baseline, sqlite, memory or redis; `streams`: how many the server must accept; `extra`: more flags;
 * `tls`: a certificate to serve HTTPS (HTTP/2) with, the baseline too.
 */
export async function startTarget(target: string, streams: number, extra: string[] = [], tls: LocalCertificate | null = null): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'threadchat-bench-'));
  const tlsArgs = tls ? ['--tls-cert', tls.cert, '--tls-key', tls.key] : [];
  const common = [
    '--port', '0', '--log', 'silent', '--max-streams', String(streams + 500), '--max-streams-per-ip', String(streams + 500),
    // The bench measures the fan-out: its one publisher may post as much, into as many rooms, as a run asks.
    '--post-rate', '0', '--post-rate-ip', '0', '--quota-bytes-day', '0', '--quota-rooms-hour', '0', ...tlsArgs, ...extra,
  ];
  const cmd =
    target === 'baseline' ? [process.execPath, join(ROOT, 'bench/baseline-server.ts'), ...tlsArgs]
    : target === 'redis' ? [process.execPath, join(ROOT, 'server.ts'), ...common, '--store', 'redis://127.0.0.1:6379/9']
    : [process.execPath, join(ROOT, 'server.ts'), ...common, '--store', target, '--data', dir];
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdout: 'pipe', stderr: 'inherit' });
  children.add(proc);
  let out = '';
  const decoder = new TextDecoder();
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const deadline = Date.now() + 20_000;
  while (!/listening on https?:\/\/[^:]+:(\d+)/.test(out)) {
    if (Date.now() > deadline) throw new Error(`${target} did not start: ${out}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`${target} exited: ${out}`);
    out += decoder.decode(value);
  }
  void (async () => { while (!(await reader.read()).done); })();
  const port = Number(out.match(/listening on https?:\/\/[^:]+:(\d+)/)![1]);
  return {
    port,
    pid: proc.pid,
    async stop() {
      proc.kill('SIGTERM');
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
      if (!exited) proc.kill('SIGKILL');
      await proc.exited;
      children.delete(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resident memory of a process, in KiB. */
export const rssKb = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);

/** Asks every child to stop at once (the bench's last step). */
export const stopServers = stopAll;
