/**
 * bin/chat when retrying cannot help: a server that wants a token it was not given (401), credentials it does not
 * take, a room the account may not read (403), a certificate curl does not trust. Each time the client says why
 * and what to do (CHAT_TOKEN=…, CHAT_USER/CHAT_PASSWORD, --insecure or CURL_CA_BUNDLE) and exits 1 at once,
 * instead of retrying in silence. Real servers, real curl, each client in a real tmux pane that stays open once
 * its client has exited, so its last words and exit status can be read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { BUN, ROOT, startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';
import { makeCertificate } from '../tls-helpers.ts';
import { createTmux, type Tmux } from './terminal-helpers.ts';

const CHAT = join(ROOT, 'bin', 'chat');
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
/**
 * bin/chat under `env -u …` (nothing of this machine's CHAT_* or CURL_CA_BUNDLE) plus `env`, then its exit code;
 * the shell stays, so the pane keeps what the client printed.
 */
const chatLine = (env: string[], ...args: string[]) =>
  `${['env', '-u', 'CHAT_TOKEN', '-u', 'CHAT_USER', '-u', 'CHAT_PASSWORD', '-u', 'CURL_CA_BUNDLE', '-u', 'CHAT_INSECURE', ...env, CHAT, ...args].map(quote).join(' ')}; echo "exit=$?"; read -r _`;

let sessions = 0;
/** Runs a client in a new tmux session; resolves with its pane once it has exited, and how long that took. */
async function runUntilExit(tmux: Tmux, line: string, ms = 15_000) {
  const session = `c${++sessions}`;
  const start = Date.now();
  tmux.must('new-session', '-d', '-s', session, '-x', '200', '-y', '40', line);
  const text = await tmux.waitForPane(session, (t) => /exit=\d+/.test(t), 'the client to exit', ms);
  return { text, code: Number(text.match(/exit=(\d+)/)![1]), seconds: (Date.now() - start) / 1000, session };
}
/** The pane's text as one line: long messages wrap in a pane. */
const flat = (text: string) => text.replace(/\s+/g, ' ');

async function members(url: string, room: string, headers: Record<string, string> = {}): Promise<string[]> {
  const res = await fetch(`${url}/rooms/${room}/members`, { headers });
  return res.ok ? ((await res.json()) as { members: string[] }).members : [];
}

describe('bin/chat against a server started with --token', () => {
  const TOKEN = 'open sesame, please';
  let server: ServerProcess;
  let tmux: Tmux;
  beforeAll(async () => {
    server = await startServer(['--store', 'memory', '--token', TOKEN]);
    tmux = createTmux();
  });
  afterAll(async () => {
    await tmux.kill();
    await server.stop();
  });

  it('without CHAT_TOKEN: says the server needs one, names CHAT_TOKEN, exits 1 at once', async () => {
    const run = await runUntilExit(tmux, chatLine([], '--url', server.url, '--room', 'locked', '--name', 'nat'));
    expect(run.code).toBe(1);
    expect(run.seconds).toBeLessThan(8);
    expect(flat(run.text)).toContain('HTTP 401');
    expect(flat(run.text)).toContain('CHAT_TOKEN=SECRET bin/chat');
    expect(run.text).not.toContain('retrying');
  });

  it('with a wrong CHAT_TOKEN: says the token was not accepted, exits 1', async () => {
    const run = await runUntilExit(tmux, chatLine(['CHAT_TOKEN=not the right one at all'], '--url', server.url, '--room', 'locked', '--name', 'nat'));
    expect(run.code).toBe(1);
    expect(flat(run.text)).toContain('did not accept CHAT_TOKEN');
  });

  it('with the token it joins as before', async () => {
    const session = `c${++sessions}`;
    tmux.must('new-session', '-d', '-s', session, '-x', '200', '-y', '40', chatLine([`CHAT_TOKEN=${TOKEN}`], '--url', server.url, '--room', 'locked', '--name', 'nat'));
    await waitFor(async () => (await members(server.url, 'locked', { Authorization: `Bearer ${TOKEN}` })).includes('nat'), 'nat in presence');
    tmux.run('kill-session', '-t', session);
  });
});

describe('bin/chat against a server with --auth accounts', () => {
  const data = tempDir();
  const ALICE = 'alice has a long password';
  const BOB = 'bob has another password';
  let server: ServerProcess;
  let tmux: Tmux;
  const user = (args: string[], stdin = '') => {
    const run = Bun.spawnSync([BUN, join(ROOT, 'scripts/user.ts'), ...args, '--data', data.path], { stdin: new Blob([stdin]), stdout: 'pipe', stderr: 'pipe' });
    if (run.exitCode !== 0) throw new Error(`bun run user ${args.join(' ')}: ${run.stderr}`);
    return run.stdout.toString();
  };
  beforeAll(async () => {
    user(['add', 'alice', '--password-stdin'], ALICE);
    user(['add', 'bob', '--password-stdin'], BOB);
    user(['access', 'bob', 'secret', 'deny']);
    server = await startServer(['--data', data.path, '--auth', 'accounts']);
    tmux = createTmux();
  });
  afterAll(async () => {
    await tmux.kill();
    await server.stop();
    data.remove();
  });

  it('not signed in: says how to sign in (CHAT_USER and CHAT_PASSWORD, or CHAT_TOKEN), exits 1', async () => {
    const run = await runUntilExit(tmux, chatLine([], '--url', server.url, '--room', 'main', '--name', 'nat'));
    expect(run.code).toBe(1);
    expect(flat(run.text)).toContain('CHAT_USER=NAME CHAT_PASSWORD=PASSWORD bin/chat');
    expect(flat(run.text)).toContain('CHAT_TOKEN=');
  });

  it('a room the account may not read: says so (HTTP 403), exits 1; a room it may read: joins as the account', async () => {
    const denied = await runUntilExit(tmux, chatLine(['CHAT_USER=bob', `CHAT_PASSWORD=${BOB}`], '--url', server.url, '--room', 'secret', '--name', 'bob'));
    expect(denied.code).toBe(1);
    expect(flat(denied.text)).toContain('HTTP 403');
    expect(flat(denied.text)).toContain('bob may not read #secret');
    const session = `c${++sessions}`;
    tmux.must('new-session', '-d', '-s', session, '-x', '200', '-y', '40', chatLine(['CHAT_USER=alice', `CHAT_PASSWORD=${ALICE}`], '--url', server.url, '--room', 'secret', '--name', 'alice'));
    const basic = { Authorization: `Basic ${Buffer.from(`alice:${ALICE}`).toString('base64')}` };
    await waitFor(async () => (await members(server.url, 'secret', basic)).includes('alice'), 'alice in presence, signed in with CHAT_USER and CHAT_PASSWORD');
    tmux.run('kill-session', '-t', session);
  });

  it('a wrong password: says CHAT_USER and CHAT_PASSWORD were not accepted, exits 1', async () => {
    const run = await runUntilExit(tmux, chatLine(['CHAT_USER=alice', 'CHAT_PASSWORD=not her password at all'], '--url', server.url, '--room', 'main', '--name', 'alice'));
    expect(run.code).toBe(1);
    expect(flat(run.text)).toContain('did not accept CHAT_USER and CHAT_PASSWORD');
  });
});

describe('bin/chat against an HTTPS server whose certificate it does not trust', () => {
  const dir = tempDir();
  let server: ServerProcess;
  let tmux: Tmux;
  let cert: string;
  beforeAll(async () => {
    const tls = makeCertificate(dir.path);
    cert = tls.cert;
    server = await startServer(['--store', 'memory', '--tls-cert', tls.cert, '--tls-key', tls.key]);
    tmux = createTmux();
  });
  afterAll(async () => {
    await tmux.kill();
    await server.stop();
    dir.remove();
  });

  it('without --insecure or CURL_CA_BUNDLE: says the certificate is not trusted and what to do, exits 1 at once', async () => {
    expect(server.url).toStartWith('https://');
    const run = await runUntilExit(tmux, chatLine([], '--url', server.url, '--room', 'tls', '--name', 'nat'));
    expect(run.code).toBe(1);
    expect(run.seconds).toBeLessThan(8);
    expect(flat(run.text)).toContain('is not trusted here: trust it with CURL_CA_BUNDLE=cert.pem, or pass --insecure');
    expect(run.text).not.toContain('retrying');
  });

  it('with CURL_CA_BUNDLE naming its certificate it joins', async () => {
    const session = `c${++sessions}`;
    tmux.must('new-session', '-d', '-s', session, '-x', '200', '-y', '40', chatLine([`CURL_CA_BUNDLE=${cert}`], '--url', server.url, '--room', 'tls', '--name', 'nat'));
    await tmux.waitForPane(session, (t) => t.includes('1 here: nat'), 'nat in the room');
    tmux.run('kill-session', '-t', session);
  });
});
