/**
 * --listen unix:PATH on a real server: HTTP on a socket file made 0660 whatever the umask, read and written with
 * curl --unix-socket; its peers count as 127.0.0.1 (so --trust-proxy 127.0.0.1 believes X-Forwarded-For); a second
 * server on a live socket exits 2, a stale socket left by kill -9 is replaced, a clean stop removes it; and the
 * docs/deploy.md nginx block for a socket, run by a real nginx in front of it.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStream, ROOT, SERVER_COMMAND, tempDir, waitFor } from '../helpers.ts';
import { DEPLOY_DOC, postFrom, startNginx } from './nginx-helpers.ts';
import { freePort } from './terminal-helpers.ts';

const dir = tempDir('tc-sock-');
afterAll(() => dir.remove());
let sockets = 0;
/** A fresh socket path in the test's folder (short: a socket's path has 107 bytes at most). */
const socketPath = () => join(dir.path, `s${sockets++}.sock`);

interface SocketServer {
  path: string;
  proc: ReturnType<typeof Bun.spawn>;
  output(): string;
  stop(): Promise<number>;
  kill9(): Promise<void>;
}

/** Spawns the server on `--listen unix:PATH`; with `listening`, resolves once it says so, else once it exits. */
async function spawnOnSocket(path: string, args: string[], wrap = (command: string[]) => command, listening = true): Promise<SocketServer> {
  const log = args.includes('--log') ? [] : ['--log', 'silent'];
  const proc = Bun.spawn(wrap([...SERVER_COMMAND, '--listen', `unix:${path}`, '--store', 'memory', ...log, ...args]), { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' });
  let out = '';
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) out += decoder.decode(chunk, { stream: true });
  };
  const pumped = Promise.all([pump(proc.stdout as ReadableStream<Uint8Array>), pump(proc.stderr as ReadableStream<Uint8Array>)]);
  if (listening) {
    await waitFor(() => {
      if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${out}`);
      return out.includes(`threadchat listening on unix:${path}`);
    }, 'the server to listen on its socket', 15_000);
  } else {
    await proc.exited;
    await pumped;
  }
  return {
    path,
    proc,
    output: () => out,
    stop: () => (proc.kill('SIGTERM'), proc.exited),
    kill9: async () => void (proc.kill('SIGKILL'), await proc.exited),
  };
}

/** curl over the socket: the status and body. */
async function curl(path: string, args: string[]): Promise<{ status: number; body: string }> {
  const proc = Bun.spawn(['curl', '-s', '--max-time', '10', '--unix-socket', path, '-w', '\n%{http_code}', ...args], { stdout: 'pipe' });
  const text = await new Response(proc.stdout).text();
  await proc.exited;
  const cut = text.lastIndexOf('\n');
  return { status: Number(text.slice(cut + 1)), body: text.slice(0, cut) };
}

/** curl POSTs a message into `room` over the socket, with `headers` (X-Forwarded-For, Host). */
const postOver = (path: string, room: string, text: string, headers: string[] = []) =>
  curl(path, ['-H', 'Content-Type: application/json', ...headers.flatMap((h) => ['-H', h]), '-d', JSON.stringify({ name: 'sock', text }), `http://localhost/rooms/${room}/messages`]);

describe('--listen unix:PATH', () => {
  it('serves HTTP on a socket made 0660 whatever the umask, which curl posts to and reads from', async () => {
    const path = socketPath();
    const server = await spawnOnSocket(path, [], (command) => ['sh', '-c', 'umask 000; exec "$@"', 'sh', ...command]);
    try {
      // The start line, as the TCP one, may end with why max-streams came down (on Node, with less memory).
      const line = server.output().split('\n').find((l) => l.startsWith('threadchat listening on'));
      expect(line?.replace(/ \(max-streams lowered .*\)$/, '')).toBe(`threadchat listening on unix:${path}`);
      const stat = statSync(path);
      expect(stat.isSocket()).toBe(true);
      expect((stat.mode & 0o777).toString(8)).toBe('660');
      const posted = await postOver(path, 'sock', 'over the socket');
      expect(posted.status).toBe(201);
      const read = await curl(path, ['http://localhost/rooms/sock/messages']);
      expect(read.status).toBe(200);
      expect(JSON.parse(read.body).messages.map((m: { text: string }) => m.text)).toEqual(['over the socket']);
    } finally {
      await server.stop();
    }
  });

  it('counts its peer as 127.0.0.1: --trust-proxy 127.0.0.1 believes X-Forwarded-For, without it every client is one', async () => {
    const quota = ['--quota-rooms-hour', '1', '--post-rate', '0', '--post-rate-ip', '0'];
    const trusted = await spawnOnSocket(socketPath(), [...quota, '--trust-proxy', '127.0.0.1', '--public-url', 'https://chat.example.com']);
    const untrusted = await spawnOnSocket(socketPath(), [...quota, '--log', 'json']);
    try {
      const over = (server: SocketServer, room: string, from: string, host = 'localhost') =>
        postOver(server.path, room, `from ${from}`, [`X-Forwarded-For: ${from}`, `Host: ${host}`]).then((r) => r.status);
      // One new room an hour per client address: the second client has its own.
      expect(await over(trusted, 'a1', '203.0.113.1')).toBe(201);
      expect(await over(trusted, 'a2', '203.0.113.1')).toBe(429);
      expect(await over(trusted, 'b1', '203.0.113.2')).toBe(201);
      // The Host check stands behind the socket: --public-url's name is answered, another is not.
      expect(await over(trusted, 'a1', '203.0.113.3', 'chat.example.com')).toBe(201);
      expect(await over(trusted, 'a1', '203.0.113.3', 'evil.example')).toBe(421);
      // Untrusted, the header counts for nothing: both are the socket's one address.
      expect(await over(untrusted, 'a1', '203.0.113.1')).toBe(201);
      expect(await over(untrusted, 'b1', '203.0.113.2')).toBe(429);
      expect(untrusted.output()).toContain('without --trust-proxy 127.0.0.1');
      expect(trusted.output()).not.toContain('without --trust-proxy');
    } finally {
      await Promise.all([trusted.stop(), untrusted.stop()]);
    }
  });

  it('refuses a second server on a live socket with exit 2 and one line, and the first goes on', async () => {
    const path = socketPath();
    const first = await spawnOnSocket(path, []);
    try {
      const second = await spawnOnSocket(path, [], undefined, false);
      expect(second.proc.exitCode).toBe(2);
      expect(second.output()).toBe(`threadchat: --listen unix:${path}: another server answers on this socket; stop it first, or listen elsewhere\n`);
      expect((await curl(path, ['http://localhost/healthz'])).status).toBe(200);
    } finally {
      await first.stop();
    }
  });

  it('replaces a stale socket left by kill -9, removes its socket at a clean stop, and leaves a file that is no socket alone', async () => {
    const path = socketPath();
    const killed = await spawnOnSocket(path, []);
    await killed.kill9();
    expect(statSync(path).isSocket()).toBe(true); // left behind, nobody answers on it
    const next = await spawnOnSocket(path, []);
    expect((await postOver(path, 'after', 'after kill -9')).status).toBe(201);
    expect(await next.stop()).toBe(0);
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, 'not a socket\n');
    const refused = await spawnOnSocket(path, [], undefined, false);
    expect(refused.proc.exitCode).toBe(2);
    expect(refused.output()).toContain(`${path} exists and is not a socket`);
    expect(readFileSync(path, 'utf8')).toBe('not a socket\n');
  });

  it('refuses a --listen that is no unix socket path, and TLS with it, with exit 2', async () => {
    const bad = await spawnOnSocket('relative.sock', [], undefined, false);
    expect(bad.proc.exitCode).toBe(2);
    expect(bad.output()).toContain('--listen (CHAT_LISTEN): must be unix: and the absolute path of a socket file');
    const tls = await spawnOnSocket(socketPath(), ['--tls-cert', 'cert.pem', '--tls-key', 'key.pem'], undefined, false);
    expect(tls.proc.exitCode).toBe(2);
    expect(tls.output()).toContain('--tls-cert and --tls-key are for TCP');
  });

  it("runs behind docs/deploy.md's nginx block for a socket: posts, streams, and each client its own address", async () => {
    const doc = readFileSync(DEPLOY_DOC, 'utf8');
    const block = [...doc.matchAll(/^```nginx\n([\s\S]*?)^```$/gm)].map((m) => m[1]!).find((b) => b.includes('server unix:'));
    expect(block).toContain('server unix:/run/threadchat/chat.sock;');
    const path = socketPath();
    const port = freePort();
    const server = await spawnOnSocket(path, ['--trust-proxy', '127.0.0.1', '--public-url', `http://127.0.0.1:${port}`, '--quota-rooms-hour', '1', '--post-rate', '0']);
    const nginx = await startNginx({ upstreams: [], port, site: block!.replace('/run/threadchat/chat.sock', path) });
    try {
      const stream = await openStream(`${nginx.url}/rooms/n1/events?history=0`);
      expect(stream.status).toBe(200);
      // 127.0.0.2 and 127.0.0.3 are two machines to nginx, and so to the server through its X-Forwarded-For.
      expect(await postFrom(nginx.url, 'n1', '127.0.0.2')).toBe(201);
      await stream.next((e) => !e.event && JSON.parse(e.data).text === 'from 127.0.0.2', 'the message through nginx');
      expect(await postFrom(nginx.url, 'n2', '127.0.0.2')).toBe(429);
      expect(await postFrom(nginx.url, 'n3', '127.0.0.3')).toBe(201);
      stream.close();
      const misnamed = await fetch(`${nginx.url}/rooms/n1/messages`, { headers: { Host: 'evil.example' } });
      expect(misnamed.status).toBe(421);
    } finally {
      await nginx.stop();
      await server.stop();
    }
  });
});
