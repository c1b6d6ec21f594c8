/**
 * The terminal clients over HTTPS, in real tmux against a real server with a test certificate: bin/chat trusting
 * it (CURL_CA_BUNDLE), with --insecure, and without either (it says why it cannot connect); the launcher starting
 * an HTTPS server itself (--tls-cert, --tls-key) and joining one at --url with --insecure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { BUN, ROOT, startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';
import { makeCertificate, type TestCertificate } from '../tls-helpers.ts';
import { alive, createTmux, freePort, killLeftovers, processTree, type Tmux } from './terminal-helpers.ts';

const CHAT = join(ROOT, 'bin', 'chat');
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
/** A shell line for tmux: `env` settings, then bin/chat with its arguments. */
const chatLine = (env: string[], ...args: string[]) => ['env', ...env, CHAT, ...args].map(quote).join(' ');

describe('terminal clients over HTTPS', () => {
  const dir = tempDir();
  let tls: TestCertificate;
  let server: ServerProcess;
  let tmux: Tmux;
  const started = new Set<number>();
  /** curl that trusts the test certificate. */
  const curl = (...args: string[]) => Bun.spawnSync(['curl', '-sS', '--cacert', tls.cert, ...args], { stdout: 'pipe', stderr: 'pipe' });
  const members = async (base: string, room: string) => JSON.parse(curl(`${base}/rooms/${room}/members`).stdout.toString()).members as string[];

  beforeAll(async () => {
    tls = makeCertificate(dir.path);
    server = await startServer(['--store', 'memory', '--tls-cert', tls.cert, '--tls-key', tls.key]);
    tmux = createTmux();
  });
  afterAll(async () => {
    await tmux?.kill();
    killLeftovers(started);
    await server?.stop();
    dir.remove();
  });

  it('bin/chat chats over https when it trusts the certificate, or with --insecure; untrusted, it says what to do', async () => {
    const room = 'tls-chat';
    tmux.must('new-session', '-d', '-s', 'tls', '-x', '160', '-y', '40', chatLine([`CURL_CA_BUNDLE=${tls.cert}`], '--url', server.url, '--room', room, '--name', 'trusting'));
    tmux.must('set-option', '-w', '-t', 'tls:0', 'remain-on-exit', 'on'); // the untrusted client exits: keep its last words
    tmux.must('split-window', '-t', 'tls:0', chatLine([], '--url', server.url, '--room', room, '--name', 'insecure', '--insecure'));
    tmux.must('split-window', '-t', 'tls:0', `${chatLine([], '--url', server.url, '--room', room, '--name', 'untrusted')}; echo "exit=$?"`);
    tmux.must('select-layout', '-t', 'tls:0', 'even-vertical');
    const [trusting, insecure, untrusted] = ['tls:0.0', 'tls:0.1', 'tls:0.2'];
    for (const pane of [trusting, insecure, untrusted]) for (const pid of processTree(tmux.panePid(pane))) started.add(pid);
    await waitFor(async () => (await members(server.url, room)).join() === 'insecure,trusting', 'both clients that connect in the room');
    await tmux.waitForPane(untrusted, (t) => t.includes('is not trusted here: trust it with CURL_CA_BUNDLE=cert.pem, or pass --insecure'), 'the untrusted client saying why');
    await tmux.waitForPane(untrusted, (t) => t.includes('exit=1'), 'the untrusted client to exit 1 (retrying cannot help)');
    await tmux.waitForPane(trusting, (t) => t.includes('2 here: insecure, trusting'), 'the other client at trusting');
    tmux.type(trusting, 'over https');
    await tmux.waitForPane(insecure, (t) => t.includes('trusting: over https'), 'the line at the --insecure client');
    tmux.type(insecure, 'and back');
    await tmux.waitForPane(trusting, (t) => t.includes('insecure: and back'), 'the reply at the trusting client');
  });

  /** Runs the launcher without a display (tmux) with this tmux's TMPDIR; collects what it prints. */
  function launch(args: string[]) {
    const { DISPLAY: _x, WAYLAND_DISPLAY: _w, ...env } = process.env;
    const proc = Bun.spawn([BUN, 'run', 'launch', ...args, '--tmux-socket', tmux.socket], { cwd: ROOT, env: { ...env, TMPDIR: tmux.tmp }, stdout: 'pipe', stderr: 'pipe' });
    let out = '';
    for (const s of [proc.stdout, proc.stderr] as ReadableStream<Uint8Array>[]) {
      void (async () => {
        for await (const chunk of s) out += new TextDecoder().decode(chunk);
      })();
    }
    return { proc, output: () => out };
  }

  /** The launcher's clients all see a message posted with curl; Ctrl-C then ends everything it started. */
  async function launchedClientsChat(base: string, session: string, proc: ReturnType<typeof Bun.spawn>, output: () => string) {
    const everything = new Set<number>();
    try {
      await waitFor(() => output().includes(`attach -t ${session}`), 'the attach line', 30_000);
      await waitFor(async () => (await members(base, 'main').catch(() => [])).join() === 'alice,bob', 'alice and bob in the room', 15_000);
      for (const pid of [proc.pid, ...tmux.sessionPanePids(session)]) for (const p of processTree(pid)) everything.add(p);
      expect(curl('-d', 'hello, tls panes', `${base}/rooms/main/messages?name=zed`).exitCode).toBe(0);
      for (const i of [0, 1]) await tmux.waitForPane(`${session}:0.${i}`, (t) => t.includes('zed: hello, tls panes'), `the message in pane ${i}`);
      proc.kill('SIGINT');
      expect(await proc.exited).toBe(0);
      await waitFor(() => ![...everything].some(alive), 'every process of the launcher to end');
    } finally {
      killLeftovers(everything);
    }
  }

  it('bun run launch --tls-cert --tls-key starts an HTTPS server whose self-signed certificate its clients trust', async () => {
    const port = freePort();
    const session = `tls-launch-${port}`;
    const { proc, output } = launch(['-c', '2', '--port', String(port), '--store', 'memory', '--tls-cert', tls.cert, '--tls-key', tls.key, '--session', session]);
    await launchedClientsChat(`https://127.0.0.1:${port}`, session, proc, output);
    expect(output()).not.toContain('--insecure');
  });

  it('bun run launch --url https://… --insecure joins a running HTTPS server, which it leaves running', async () => {
    const other = await startServer(['--store', 'memory', '--tls-cert', tls.cert, '--tls-key', tls.key]);
    try {
      const session = `tls-join-${other.port}`;
      const { proc, output } = launch(['-c', '2', '--url', other.url, '--insecure', '--session', session]);
      await launchedClientsChat(other.url, session, proc, output);
      expect(output()).toContain('using the server already answering');
      expect(curl('-o', '/dev/null', '-w', '%{http_code}', `${other.url}/healthz`).stdout.toString()).toBe('200');
    } finally {
      await other.stop();
    }
  });
});
