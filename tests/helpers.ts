/** Shared test helpers: real server processes on free ports, real SSE streams, waits with deadlines. */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suiteCertificate } from './tls-helpers.ts';

export const ROOT = join(import.meta.dir, '..');
export const BUN = process.execPath;

/**
 * The runtime the e2e tests start the server on: Bun (default) runs `server.ts`; THREADCHAT_RUNTIME=node runs the
 * build, `node dist/server.js` (`npm run build` first; scripts/test.sh does).
 */
export const SERVER_RUNTIME: 'bun' | 'node' = process.env.THREADCHAT_RUNTIME === 'node' ? 'node' : 'bun';
export const SERVER_COMMAND: readonly string[] = SERVER_RUNTIME === 'node' ? ['node', join(ROOT, 'dist', 'server.js')] : [BUN, join(ROOT, 'server.ts')];

/** Polls `check` until it returns a truthy value; throws `what` after `ms`. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, ms = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(20);
  }
}

export function tempDir(prefix = 'threadchat-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface ServerProcess {
  url: string;
  port: number;
  proc: ReturnType<typeof Bun.spawn>;
  output(): string;
  /** All it wrote, once it has exited and its pipes are read to the end. */
  allOutput(): Promise<string>;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number>;
  /** SIGKILL and wait. */
  kill9(): Promise<void>;
}

/** With THREADCHAT_TEST_TLS_DIR (scripts/test.sh's HTTPS pass), every server serves HTTPS with that certificate. */
const SUITE_TLS = suiteCertificate();
const TLS_ARGS = SUITE_TLS ? ['--tls-cert', SUITE_TLS.cert, '--tls-key', SUITE_TLS.key] : [];

/**
 * Starts `server.ts` on a free port and resolves once it prints its URL (https:// in the HTTPS pass). `wrap` puts
 * the server's command line inside another (another user, a ulimit).
 */
export async function startServer(args: string[] = [], env: Record<string, string> = {}, wrap = (command: string[]) => command): Promise<ServerProcess> {
  const proc = Bun.spawn(wrap([...SERVER_COMMAND, '--port', '0', '--log', 'silent', ...TLS_ARGS, ...args]), {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  let out = '';
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) out += decoder.decode(chunk, { stream: true });
  };
  const pumped = Promise.all([pump(proc.stdout as ReadableStream<Uint8Array>), pump(proc.stderr as ReadableStream<Uint8Array>)]);
  const match = await waitFor(() => {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${out}`);
    return out.match(/listening on (https?:\/\/[^\s]+?:(\d+))\//);
  }, 'the server to print its URL', 15_000);
  return {
    url: match[1]!,
    port: Number(match[2]),
    proc,
    output: () => out,
    allOutput: () => pumped.then(() => out),
    async stop() {
      proc.kill('SIGTERM');
      return proc.exited;
    },
    async kill9() {
      proc.kill('SIGKILL');
      await proc.exited;
    },
  };
}

export interface SseEvent extends EventSourceMessage {
  at: number;
}

export interface Stream {
  events: SseEvent[];
  /** Unnamed events (chat messages), parsed as JSON. */
  messages(): { id: string; name: string; text: string; room: string }[];
  status: number;
  headers: Headers;
  /** The body of a refusal (any status but 200), read in full; null for a stream. */
  refusal: string | null;
  closed: Promise<void>;
  next(predicate: (e: SseEvent) => boolean, what: string, ms?: number): Promise<SseEvent>;
  close(): void;
}

/** Opens an SSE stream with fetch and parses it with eventsource-parser. */
export async function openStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const refusal = res.status === 200 ? null : await res.text();
  const events: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ ...e, at: Date.now() }) });
  const decoder = new TextDecoder();
  const closed = (async () => {
    try {
      for await (const chunk of res.body as ReadableStream<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      // aborted
    }
  })();
  let done = false;
  void closed.then(() => (done = true));
  return {
    events,
    status: res.status,
    headers: res.headers,
    refusal,
    closed,
    messages: () => events.filter((e) => !e.event).map((e) => JSON.parse(e.data)),
    async next(predicate, what, ms = 10_000) {
      return waitFor(() => {
        const found = events.find(predicate);
        if (!found && done) throw new Error(`stream ended before ${what}`);
        return found;
      }, what, ms);
    },
    close: () => abort.abort(),
  };
}

/** POSTs a JSON message; returns the parsed 201 body (throws on another status). */
export async function post(base: string, room: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/rooms/${room}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status !== 201) throw new Error(`POST answered ${res.status}: ${JSON.stringify(json)}`);
  return json as { id: string; name: string; text: string; room: string; ts: number };
}

export async function health(base: string) {
  return (await (await fetch(`${base}/healthz`)).json()) as { streams: number; connecting: number; workers: number; idle: number; threads: number; buffered: number; rooms: number; waves: number };
}
