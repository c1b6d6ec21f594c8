/** The server a soak starts for itself: a temporary --data dir, a free port, flood limits lifted. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Options } from './options.ts';
import { makeLocalCertificate } from '../local-cert.ts';

const ROOT = join(import.meta.dir, '..', '..');

/** The server this run started: killed by its PID, never by name; `ca`: its certificate (PEM) under --tls. */
export interface OwnServer { url: string; ca: string | null; stop(): Promise<void> }

export async function startServer(options: Options): Promise<OwnServer> {
  const data = mkdtempSync(join(tmpdir(), 'threadchat-soak-'));
  const tls = options.tls ? makeLocalCertificate(data) : null;
  const tlsArgs = tls ? ['--tls-cert', tls.cert, '--tls-key', tls.key] : [];
  const proc = Bun.spawn([process.execPath, join(ROOT, 'server.ts'), '--port', '0', '--host', '127.0.0.1', '--data', data, '--store', options.store, '--log', 'silent', ...tlsArgs], {
    cwd: ROOT,
    // A soak measures delivery, not the flood limits: lift them on the server it owns.
    env: { ...process.env, CHAT_POST_RATE: '0', CHAT_POST_RATE_IP: '0', CHAT_MAX_STREAMS_PER_IP: String(Math.max(100, options.clients * 4)), CHAT_TOKEN: options.token ?? '' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  let out = '';
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) out += new TextDecoder().decode(chunk);
  };
  void pump(proc.stdout).catch(() => {});
  void pump(proc.stderr).catch(() => {});
  let stopped: Promise<void> | null = null;
  const stop = () => (stopped ??= (async () => {
    if (proc.exitCode === null) {
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await proc.exited;
      clearTimeout(killer);
    }
    rmSync(data, { recursive: true, force: true });
  })());
  const deadline = Date.now() + 15_000;
  for (;;) {
    const match = out.match(/listening on (https?:\/\/[^\s]+?:\d+)\//);
    if (match) return { url: match[1]!, ca: tls ? readFileSync(tls.cert, 'utf8') : null, stop };
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the server did not start (${proc.exitCode === null ? 'no URL within 15 s' : `exit ${proc.exitCode}`}):\n${out}`);
    }
    await Bun.sleep(25);
  }
}
