/**
 * What must hold for any request, however hostile: the in-process app, the checks on each answer, and the
 * validity of what the store holds afterwards. Used by tests/fuzz/hostile-input.test.ts.
 */
import { expect } from 'bun:test';
import { createApp } from '../../app.ts';
import { loadConfig } from '../../lib/config.ts';
import { cleanName, cleanText } from '../../lib/input.ts';
import { createLogger } from '../../lib/logger.ts';
import type { ChatMessage } from '../../lib/chat-types.ts';
import type { Store } from '../../store/types.ts';
import { createHub } from '../../fanout/hub.ts';
import { buildBody, type RequestSpec } from './arbitraries.ts';

/** The contract's limits, restated here rather than imported, so the check does not trust the code it checks. */
/** A stored room: the rule of lib/input.ts (any script, NFC, lower case); the path's form is checked by the schema. */
const ROOM = /^[\p{L}\p{M}\p{N}_-]{1,64}$/u;
const CLIENT = /^[A-Za-z0-9_-]{1,64}$/;
const NAME_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f]/;
const TEXT_FORBIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** Characters as a person counts them (code points), as the limits are checked: an emoji is one, not two. */
const chars = (s: string) => [...s].length;

/** Why `m` is not a valid stored message, or null. */
export function invalidMessage(m: ChatMessage): string | null {
  if (!ROOM.test(m.room) || m.room !== m.room.normalize('NFC').toLowerCase()) return `room ${JSON.stringify(m.room)}`;
  if (typeof m.name !== 'string' || chars(m.name) < 1 || chars(m.name) > 32) return `name length ${chars(m.name)}`;
  if (NAME_FORBIDDEN.test(m.name)) return `control character in name ${JSON.stringify(m.name)}`;
  if (typeof m.text !== 'string' || chars(m.text) < 1 || chars(m.text) > 4000) return `text length ${chars(m.text)}`;
  if (TEXT_FORBIDDEN.test(m.text)) return `control character in text ${JSON.stringify(m.text)}`;
  // DESIGN: "valid UTF-8". A lone surrogate cannot be encoded as UTF-8 (it turns into U+FFFD on the way out).
  if (!m.name.isWellFormed() || !m.text.isWellFormed()) return `lone surrogate in ${JSON.stringify({ name: m.name, text: m.text })}`;
  if (m.client !== null && !CLIENT.test(m.client)) return `client ${JSON.stringify(m.client)}`;
  if (typeof m.id !== 'string' || !/^\d+(-\d+)?$/.test(m.id)) return `id ${JSON.stringify(m.id)}`;
  return null;
}

export interface FuzzApp {
  app: ReturnType<typeof createApp>;
  hub: ReturnType<typeof createHub>;
  store: Store;
  /** Every message the store accepted, in order. */
  appended: ChatMessage[];
  close(): Promise<void>;
}

/** The app as server.ts builds it, over `store`, with a hub of real Workers and rate limits lifted. */
/**
 * The app on `store`, as a fuzz target. `peers: 'many'`: each request from an address of its own, as from many
 * strangers: a wrong token is then refused at once, never slowed down as one from a place the token was used before
 * (middleware/sign-in-limit.ts), which would make the run wait a second per wrong try.
 */
export function createFuzzApp(store: Store, env: Record<string, string> = {}, peers: 'one' | 'many' = 'one'): FuzzApp {
  const appended: ChatMessage[] = [];
  // Record what is stored, whatever route stored it.
  const recording: Store = {
    ...store,
    kind: store.kind,
    append: async (m) => {
      const saved = await store.append(m);
      appended.push(saved);
      return saved;
    },
  };
  const config = loadConfig(['--store', store.kind === 'sqlite' ? 'sqlite' : 'memory'], {
    CHAT_POST_RATE: '0', CHAT_POST_RATE_IP: '0', CHAT_POST_BURST: '100000', CHAT_POST_BURST_IP: '1000000',
    // The fake peer is trusted, so the forwarding headers the generators send are parsed, not ignored.
    CHAT_TRUST_PROXY: '127.0.0.1', ...env,
  });
  const logger = createLogger('silent');
  const hub = createHub({ store: recording, logger, maxStreams: 20, replayPage: 100, pool: { minIdle: 1, maxIdle: 4 } });
  let n = 0;
  const address = () => (peers === 'one' ? '127.0.0.1' : `10.${(++n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`);
  const runtime = { name: 'bun' as const, peer: () => `${address()}:1`, address, keepOpen: () => {} };
  const app = createApp({ config, store: recording, hub, logger, runtime });
  return {
    app, hub, store, appended,
    async close() {
      await hub.close();
      await store.close();
    },
  };
}

export function buildRequest(spec: RequestSpec, base = 'http://localhost'): Request {
  const url = `${base}${spec.path.startsWith('/') ? '' : '/'}${spec.path}${spec.query}`;
  const body = spec.method.toUpperCase() === 'GET' || spec.method.toUpperCase() === 'HEAD' ? undefined : buildBody(spec.body);
  return new Request(url, { method: spec.method, headers: spec.headers, body });
}

/** The first bytes of an SSE response, then the stream is cancelled so no Worker stays busy. */
async function firstChunk(res: Response, ms = 5000): Promise<string> {
  const reader = res.body!.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no SSE bytes within ${ms} ms`)), ms)));
    const chunk = await Promise.race([reader.read(), late]);
    return chunk.done ? '' : new TextDecoder().decode(chunk.value);
  } finally {
    clearTimeout(timer);
    await reader.cancel();
  }
}

/**
 * What a well-formed JSON post must get, by the contract alone: accepted (201, or 303 for a browser form) or
 * refused (422). Null when the request is not that simple (odd headers, query, room, types) and only the
 * general checks apply.
 */
export function expectedJsonPost(spec: RequestSpec): 'accepted' | 'refused' | null {
  const room = /^\/rooms\/([^/]*)\/messages$/.exec(spec.path)?.[1];
  // Only plain ASCII rooms are simple here: others are percent-encoded and normalised on the way in.
  if (spec.method.toUpperCase() !== 'POST' || !room || !/^[a-z0-9_-]{1,64}$/.test(room) || spec.query !== '') return null;
  const h = spec.headers;
  if (h['content-type'] !== 'application/json' || h['x-client-id'] !== undefined || spec.body.kind !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(spec.body.value);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { name, text, client } = value as Record<string, unknown>;
  if (typeof text !== 'string' || (name !== undefined && typeof name !== 'string') || client !== undefined) return null;
  const cleaned = cleanText(text);
  const ok = chars(cleaned) >= 1 && chars(cleaned) <= 4000 && chars(cleanName(name ?? '')) <= 32;
  return ok ? 'accepted' : 'refused';
}

/**
 * The status a rename must get, by the contract alone, when no stream of that client is open (as in the fuzz:
 * every stream it opens is cancelled at once): 404 for a good name, 422 for a bad one, 400 for broken JSON, 413
 * past 1024 bytes. Null when the request is not a plain rename.
 */
export function expectedRename(spec: RequestSpec): number | null {
  const m = /^\/rooms\/([^/]*)\/members\/([^/]*)$/.exec(spec.path);
  if (spec.method !== 'PUT' || !m || !ROOM.test(m[1]!) || !CLIENT.test(m[2]!) || spec.query !== '') return null;
  const type = spec.headers['content-type'];
  if (Object.keys(spec.headers).length !== 1) return null;
  if (spec.body.kind === 'repeat') return spec.body.unit.repeat(spec.body.times).length > 1024 ? 413 : null;
  if (spec.body.kind !== 'string') return null;
  let name: unknown;
  if (type === 'application/json') {
    try {
      name = (JSON.parse(spec.body.value) as { name?: unknown }).name;
    } catch {
      return 400;
    }
  } else if (type === 'application/x-www-form-urlencoded') name = new URLSearchParams(spec.body.value).get('name');
  else if (type === 'text/plain') name = spec.body.value;
  else return null;
  if (typeof name !== 'string') return 422;
  const cleaned = cleanName(name);
  return chars(cleaned) >= 1 && chars(cleaned) <= 32 ? 404 : 422;
}

/**
 * The checks on any answer, wherever it came from: no 5xx; a stream starts with its `retry:` line (then it is
 * cancelled); a 4xx gives a reason in JSON; a redirect says where. Returns the body read (empty for a stream).
 */
async function checkAnswer(spec: RequestSpec, req: Request, res: Response): Promise<{ text: string; stream: boolean }> {
  const where = `${spec.method} ${spec.path}${spec.query}`;
  expect(res.status, `${where} answered ${res.status}`).toBeGreaterThanOrEqual(200);
  expect(res.status, `${where} answered ${res.status}`).toBeLessThan(500);
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('text/event-stream')) {
    expect(res.status).toBe(200);
    if (res.body) expect(await firstChunk(res)).toStartWith('retry: ');
    return { text: '', stream: true };
  }
  const text = await res.text();
  if (res.status >= 400 && req.method !== 'HEAD') {
    const loginPage = spec.path === '/login' && type.startsWith('text/html'); // the sign-in form, re-shown to a browser
    if (!loginPage) {
      expect(type, `${where} ${res.status} is not JSON`).toStartWith('application/json');
      const error = (JSON.parse(text) as { error?: unknown }).error;
      expect(typeof error === 'string' && error.length > 0, `${where} ${res.status} gives no reason`).toBe(true);
    }
  }
  if (res.status >= 300 && res.status < 400) expect(res.headers.get('location'), `${where} redirects nowhere`).toBeTruthy();
  return { text, stream: false };
}

/** The oracles: what a plain JSON post and a plain rename must get, by the contract alone. */
function checkOracles(spec: RequestSpec, status: number) {
  const where = `${spec.method} ${spec.path}${spec.query}`;
  const expected = expectedJsonPost(spec);
  if (expected === 'accepted') expect([201, 303], `${where} refused a valid message`).toContain(status);
  if (expected === 'refused') expect(status, `${where} accepted an invalid message`).toBe(422);
  const rename = expectedRename(spec);
  if (rename !== null) expect(status, `${where} with ${JSON.stringify(spec.body)}`).toBe(rename);
}

const isPostOf = (req: Request) => /^\/rooms\/[^/]*\/messages$/.test(new URL(req.url).pathname) && req.method === 'POST';

/** Sends one request in process and checks the answer, and that only an accepted post stored anything (and something valid). */
export async function checkRequest(target: FuzzApp, spec: RequestSpec, options = { oracle: true }): Promise<{ status: number; stream: boolean }> {
  const req = buildRequest(spec);
  const before = target.appended.length;
  const res = await target.app.fetch(req);
  const where = `${spec.method} ${spec.path}${spec.query}`;
  const { text, stream } = await checkAnswer(spec, req, res);
  // Cancelling ends the stream synchronously: nothing may stay open behind a finished request.
  if (stream) expect(target.hub.stats().streams).toBe(0);
  const stored = target.appended.slice(before);
  const accepted = isPostOf(req) && (res.status === 201 || res.status === 303);
  expect(stored.length, `${where} (${res.status}) stored ${stored.length} messages`).toBe(accepted ? 1 : 0);
  for (const m of stored) expect(invalidMessage(m), `${where} stored ${JSON.stringify(m)}`).toBeNull();
  if (accepted && res.headers.get('content-type')?.startsWith('application/json')) {
    expect(JSON.parse(text)).toMatchObject({ id: stored[0]!.id, text: stored[0]!.text, name: stored[0]!.name });
  }
  if (options.oracle) checkOracles(spec, res.status);
  return { status: res.status, stream };
}

/**
 * Sends one request over real HTTP to a running server and checks the answer as checkRequest does. Returns the
 * room of an accepted post (the caller counts them against what the server then holds), else null. The oracles
 * apply only where the server's rate limits did not answer first (429).
 */
export async function checkOverHttp(base: string, spec: RequestSpec): Promise<{ status: number; stream: boolean; storedIn: string | null }> {
  // Bun's fetch sends a body only with the methods it knows (FOO, PROPFIND: it refuses one); in process they get one.
  const known = ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'GET', 'HEAD'].includes(spec.method);
  const req = buildRequest(known ? spec : { ...spec, body: { kind: 'none' } }, base);
  const url = new URL(req.url);
  const res = await fetch(req, { redirect: 'manual' });
  const { text, stream } = await checkAnswer(spec, req, res);
  if (res.status !== 429) checkOracles(spec, res.status);
  const accepted = isPostOf(req) && (res.status === 201 || res.status === 303);
  if (accepted && res.headers.get('content-type')?.startsWith('application/json')) {
    expect(invalidMessage(JSON.parse(text) as ChatMessage), `${spec.method} ${spec.path} answered ${text}`).toBeNull();
  }
  // The room it went to: the path's name as the server reads it (NFC, lower case: `MAIN` is `main`).
  return { status: res.status, stream, storedIn: accepted ? decodeURIComponent(url.pathname.split('/')[2]!).normalize('NFC').toLowerCase() : null };
}

/** Every room the store was written to holds only valid messages, with ids increasing. */
export async function checkStore(target: FuzzApp): Promise<number> {
  const rooms = new Set(target.appended.map((m) => m.room));
  let count = 0;
  for (const room of rooms) {
    const held = await target.store.recent(room, 100_000);
    let last = -1;
    for (const m of held) {
      expect(invalidMessage(m), `stored in ${room}: ${JSON.stringify(m)}`).toBeNull();
      expect(Number(m.id)).toBeGreaterThan(last);
      last = Number(m.id);
    }
    count += held.length;
  }
  expect(count).toBe(target.appended.length);
  return count;
}
