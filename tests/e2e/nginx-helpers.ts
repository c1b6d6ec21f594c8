/**
 * A real nginx of a test's own, configured with the nginx block of docs/deploy.md: the block is read from the
 * doc, its ports and timeouts replaced (each replacement must match, so the doc cannot drift from what is
 * tested), and wrapped in a main config whose pid, logs and temp files live in a temp dir. Started as the
 * `nginx` binary in the foreground (never the system service) and stopped by its PID.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { ROOT, tempDir, waitFor } from '../helpers.ts';
import { freePort } from './terminal-helpers.ts';

export const DEPLOY_DOC = join(ROOT, 'docs', 'deploy.md');
export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx'].find((p) => existsSync(p)) ?? 'nginx';

/** The first ```nginx block of docs/deploy.md, as written. */
export function deployNginxBlock(doc = readFileSync(DEPLOY_DOC, 'utf8')): string {
  const match = /^```nginx\n([\s\S]*?)^```$/m.exec(doc);
  if (!match) throw new Error(`${DEPLOY_DOC} has no \`\`\`nginx block`);
  return match[1]!;
}

/** Replaces `from` (which must occur exactly once) by `to`: a doc that changed shape fails loudly. */
function replaceOnce(text: string, from: string | RegExp, to: string): string {
  const pattern = typeof from === 'string' ? new RegExp(from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g') : new RegExp(from.source, from.flags.replace('g', '') + 'g');
  const found = text.match(pattern)?.length ?? 0;
  if (found !== 1) throw new Error(`docs/deploy.md's nginx block: expected "${from}" once, found it ${found} times`);
  return text.replace(pattern, to);
}

export interface NginxOptions {
  /** The instances' ports: the doc's 127.0.0.1:3000 and 127.0.0.1:3001 (one port: both lines point at it). */
  upstreams: number[];
  /** Replaces the doc's `proxy_read_timeout 60s`, e.g. '2s'. */
  readTimeout?: string;
  /** The port nginx listens on (default: a free one): known before the server starts, for its --public-url. */
  port?: number;
  /** Another site block of the doc, its upstreams already put in (`upstreams` unused): only its `listen 80;` is replaced. */
  site?: string;
}

/** The doc's block with this test's ports and timeouts, and the port nginx will listen on. */
export function siteConfig(options: NginxOptions, port: number, block = deployNginxBlock()): string {
  const [first, second = first] = options.upstreams;
  let site = replaceOnce(block, /^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${port};`);
  site = replaceOnce(site, /server 127\.0\.0\.1:3000\b/, `server 127.0.0.1:${first}`);
  site = replaceOnce(site, /server 127\.0\.0\.1:3001\b/, `server 127.0.0.1:${second}`);
  if (options.readTimeout) site = replaceOnce(site, 'proxy_read_timeout 60s;', `proxy_read_timeout ${options.readTimeout};`);
  return site;
}

export interface Nginx {
  url: string;
  port: number;
  pid: number;
  dir: string;
  config: string;
  errorLog(): string;
  /** SIGTERM by PID (fast shutdown: the master stops its workers), waits for the exit, removes the temp dir. */
  stop(): Promise<void>;
}

/** Starts nginx on a free port in front of `options.upstreams`; resolves once it answers. */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const dir = tempDir('threadchat-nginx-');
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir.path, sub));
  const port = options.port ?? freePort();
  const path = (name: string) => join(dir.path, name);
  const config = [
    // As root, nginx's workers would run as nobody and could not use the temp dir: keep them as the test's user.
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'worker_processes 1;',
    `pid ${path('nginx.pid')};`,
    `error_log ${path('error.log')} info;`,
    'events { worker_connections 1024; }',
    'http {',
    `  access_log ${path('access.log')};`,
    `  client_body_temp_path ${path('client_body')};`,
    `  proxy_temp_path ${path('proxy')};`,
    `  fastcgi_temp_path ${path('fastcgi')};`,
    `  uwsgi_temp_path ${path('uwsgi')};`,
    `  scgi_temp_path ${path('scgi')};`,
    options.site ? replaceOnce(options.site, /^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${port};`) : siteConfig(options, port),
    '}',
    '',
  ].join('\n');
  writeFileSync(path('nginx.conf'), config);
  const proc = Bun.spawn([NGINX, '-p', dir.path, '-c', path('nginx.conf'), '-e', path('error.log'), '-g', 'daemon off;'], { stdout: 'pipe', stderr: 'pipe' });
  let out = '';
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) out += new TextDecoder().decode(chunk);
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>).catch(() => {});
  void pump(proc.stderr as ReadableStream<Uint8Array>).catch(() => {});
  const errorLog = () => (existsSync(path('error.log')) ? readFileSync(path('error.log'), 'utf8') : '');
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        const killer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await proc.exited;
        clearTimeout(killer);
      }
      dir.remove();
    })());
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`nginx exited with ${proc.exitCode}:\n${out}\n${errorLog()}\n--- config ---\n${config}`);
      return fetch(`${url}/healthz`).then((r) => r.status === 200, () => false);
    }, 'nginx to answer', 10_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, pid: proc.pid, dir: dir.path, config, errorLog, stop };
}

/**
 * POSTs a message from the source address `from` (127.0.0.2, 127.0.0.3: every 127/8 address is this machine), as
 * `curl --interface` would: node:http with `localAddress`. Returns the status.
 */
export function postFrom(base: string, room: string, from: string, headers: Record<string, string> = {}, text = `from ${from}`): Promise<number> {
  const url = new URL(`${base}/rooms/${room}/messages`);
  const body = JSON.stringify({ name: 'ip', text });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress: from, timeout: 10_000,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': String(Buffer.byteLength(body)), ...headers } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`POST from ${from} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}
