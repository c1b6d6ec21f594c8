import { afterEach, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { BUN, ROOT, startServer, tempDir } from '../helpers.ts';
import { makeCertificate } from '../tls-helpers.ts';

const SOAK = join(ROOT, 'scripts', 'soak.ts');
let running: ReturnType<typeof Bun.spawn> | null = null;

/** Runs the soak script to the end and returns its exit code and output; a run that outlives the test is killed. */
async function soak(args: string[]) {
  const proc = (running = Bun.spawn([BUN, SOAK, ...args], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' }));
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  running = null;
  return { code, stdout, stderr };
}

afterEach(() => {
  running?.kill('SIGINT'); // the script stops its own server on SIGINT
  running = null;
});

describe('bun run soak', () => {
  it('runs 5 clients for 5 s with drops and resumes, and loses or repeats nothing', async () => {
    const { code, stdout, stderr } = await soak(['--clients', '5', '--seconds', '5', '--rate', '3', '--drops', '30', '--settle', '15']);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    const result = stdout.match(/^result: .*$/m)?.[0] ?? '';
    expect(result).toContain(' lost=0 duplicates=0 ');
    const field = (name: string) => Number(new RegExp(`\\b${name}=(\\d+)`).exec(result)?.[1]);
    expect(field('acked')).toBeGreaterThan(10);
    expect(field('delivered')).toBe(field('acked') * 4);
    expect(field('reconnects')).toBeGreaterThan(0);
    expect(stderr).toMatch(/^soak \d+ s: sent \d+/m); // progress, once a second
  }, 45_000);

  it('--tls: runs over HTTPS against its own server, trusting its local certificate', async () => {
    const { code, stdout, stderr } = await soak(['--clients', '3', '--seconds', '3', '--rate', '3', '--drops', '20', '--store', 'memory', '--tls']);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toMatch(/on own server https:\/\/127\.0\.0\.1:\d+/);
    expect(stdout).toMatch(/^result: .* lost=0 duplicates=0 reordered=0 echoed=0 /m);
  }, 45_000);

  it('--url https://… --insecure: runs against a running HTTPS server whose certificate it does not trust', async () => {
    const dir = tempDir();
    const tls = makeCertificate(dir.path);
    const server = await startServer(['--store', 'memory', '--tls-cert', tls.cert, '--tls-key', tls.key, '--post-rate', '0', '--post-rate-ip', '0']);
    try {
      const args = ['--clients', '2', '--seconds', '2', '--rate', '3', '--drops', '0', '--url', server.url];
      const untrusted = await soak(args);
      expect(untrusted.code).toBe(3); // the run could not be done: the certificate is not trusted
      const { code, stdout, stderr } = await soak([...args, '--insecure']);
      expect(code, `${stdout}\n${stderr}`).toBe(0);
      expect(stdout).toMatch(/^result: .* lost=0 duplicates=0 reordered=0 echoed=0 /m);
    } finally {
      await server.stop();
      dir.remove();
    }
  }, 45_000);

  it('explains itself and talks to this machine only', async () => {
    const help = await soak(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('lost');
    const remote = await soak(['--url', 'http://example.com:3000']);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('must be on this machine');
  });
});
