/**
 * The sign-in, against real servers: the cookie (its attributes, a value derived from the token that works and
 * is not the token), sign-out, a token change signing everyone out, --token-file kept out of the command line,
 * failed sign-ins limited per address, and bad input (huge or malformed cookies, 10,000 failed sign-ins).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { post, startServer, tempDir, type ServerProcess } from '../helpers.ts';

const TOKEN = 'correct horse battery staple';
const BEARER = { Authorization: `Bearer ${TOKEN}` };

const signIn = (base: string, token: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ token, next: '/rooms/main' }), headers, redirect: 'manual' });

/** The `name=value` of a Set-Cookie header, and its attributes as they were sent. */
const parseSetCookie = (header: string | null) => {
  expect(header).toBeTruthy();
  const [pair, ...attributes] = header!.split(';').map((s) => s.trim());
  return { pair: pair!, value: pair!.slice(pair!.indexOf('=') + 1), attributes };
};

/** Signs in with the token and returns the cookie to send back (`chat_session=…`). */
async function cookieFrom(base: string, token = TOKEN) {
  const res = await signIn(base, token);
  expect(res.status).toBe(303);
  return parseSetCookie(res.headers.get('set-cookie')).pair;
}

/** What a page, a post and a stream answer with these headers: 200/201/200 signed in, 303/401/401 not. */
async function access(base: string, headers: Record<string, string>) {
  const page = await fetch(`${base}/rooms/main`, { headers: { Accept: 'text/html', ...headers }, redirect: 'manual' });
  const posted = await fetch(`${base}/rooms/main/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
    body: JSON.stringify({ name: 'c', text: 'with a cookie' }),
  });
  const abort = new AbortController();
  const stream = await fetch(`${base}/rooms/main/events`, { headers: { Accept: 'text/event-stream', ...headers }, signal: abort.signal });
  abort.abort();
  return [page.status, posted.status, stream.status];
}
const SIGNED_IN = [200, 201, 200];
const SIGNED_OUT = [303, 401, 401];

describe('the sign-in cookie', () => {
  const dir = tempDir('threadchat-sign-in-');
  const tokenFile = join(dir.path, 'token');
  let server: ServerProcess;
  beforeAll(async () => {
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    server = await startServer(['--store', 'memory', '--token-file', tokenFile]);
  });
  afterAll(async () => {
    await server.stop();
    dir.remove();
  });

  it('takes the token from --token-file, which keeps it out of the command line', async () => {
    const cmdline = readFileSync(`/proc/${server.proc.pid}/cmdline`, 'utf8');
    expect(cmdline).toContain(tokenFile);
    expect(cmdline).not.toContain(TOKEN);
    expect((await post(server.url, 'main', { text: 'by bearer' }, BEARER)).text).toBe('by bearer');
    expect(await access(server.url, { Authorization: `Bearer ${TOKEN}x` })).toEqual(SIGNED_OUT);
  });

  it('is HttpOnly, SameSite=Strict, Path=/, not Secure over http, and holds a value that is not the token', async () => {
    const res = await signIn(server.url, TOKEN);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/rooms/main');
    const { pair, value, attributes } = parseSetCookie(res.headers.get('set-cookie'));
    expect(pair).toStartWith('chat_session=');
    expect(attributes).toContain('HttpOnly');
    expect(attributes).toContain('SameSite=Strict');
    expect(attributes).toContain('Path=/');
    expect(attributes).toContain('Max-Age=2592000'); // 30 days
    expect(attributes.some((a) => a.toLowerCase() === 'secure')).toBe(false);
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 bytes of HMAC, base64url
    for (const form of [TOKEN, encodeURIComponent(TOKEN), Buffer.from(TOKEN).toString('base64url')]) expect(value).not.toContain(form);
    expect(res.headers.get('set-cookie')).not.toContain(TOKEN);
  });

  it('lets the page, posts and streams through with the cookie, and not with the token as a cookie', async () => {
    expect(await access(server.url, { Cookie: await cookieFrom(server.url) })).toEqual(SIGNED_IN);
    expect(await access(server.url, { Cookie: `chat_session=${encodeURIComponent(TOKEN)}` })).toEqual(SIGNED_OUT);
    expect(await access(server.url, {})).toEqual(SIGNED_OUT);
  });

  it('clears the cookie on POST /logout: 303 to /login for a form, 204 for another client', async () => {
    const cookie = await cookieFrom(server.url);
    const form = await fetch(`${server.url}/logout`, { method: 'POST', headers: { Cookie: cookie, Accept: 'text/html' }, redirect: 'manual' });
    expect(form.status).toBe(303);
    expect(form.headers.get('location')).toBe('/login');
    const cleared = parseSetCookie(form.headers.get('set-cookie'));
    expect(cleared.pair).toBe('chat_session=');
    for (const attribute of ['Max-Age=0', 'Path=/', 'HttpOnly', 'SameSite=Strict']) expect(cleared.attributes).toContain(attribute);
    const api = await fetch(`${server.url}/logout`, { method: 'POST', headers: { Cookie: cookie, Accept: 'application/json' } });
    expect(api.status).toBe(204);
    expect(parseSetCookie(api.headers.get('set-cookie')).attributes).toContain('Max-Age=0');
    // A browser that took the clearing sends no cookie: signed out.
    expect(await access(server.url, { Cookie: cleared.pair })).toEqual(SIGNED_OUT);
  });

  it('answers a 64 KB cookie with a 4xx or ignores it, and a malformed one as no sign-in, never a 5xx', async () => {
    const huge = await fetch(`${server.url}/rooms/main/messages`, { headers: { Cookie: `chat_session=${'a'.repeat(64 * 1024)}` } });
    console.log(`a 64 KB cookie: ${huge.status}`);
    expect(huge.status).toBeGreaterThanOrEqual(400);
    expect(huge.status).toBeLessThan(500);
    const good = await cookieFrom(server.url);
    for (const cookie of ['chat_session', 'chat_session=', 'chat_session=%E0%A4%A', 'chat_session="open', '=;;;=', 'chat_session=a=b=c', `chat_session=${'%'.repeat(3000)}`, `${good}x`, good.slice(0, -1)]) {
      expect(await access(server.url, { Cookie: cookie })).toEqual(SIGNED_OUT);
    }
    expect(await access(server.url, { Cookie: `junk=%%%; theme=dark; ${good}` })).toEqual(SIGNED_IN);
  });
});

describe('a token change', () => {
  it('signs everyone out, while every instance with the same token accepts the same cookie', async () => {
    const data = tempDir();
    const start = (token: string) => startServer(['--data', data.path], { CHAT_TOKEN: token });
    try {
      let server = await start(TOKEN);
      const cookie = await cookieFrom(server.url);
      expect(await access(server.url, { Cookie: cookie })).toEqual(SIGNED_IN);
      await server.stop();

      server = await start('a new token');
      expect(await access(server.url, { Cookie: cookie })).toEqual(SIGNED_OUT);
      expect(await access(server.url, { Cookie: await cookieFrom(server.url, 'a new token') })).toEqual(SIGNED_IN);
      await server.stop();

      server = await start(TOKEN); // another process, the old token: the old cookie again
      expect(await access(server.url, { Cookie: cookie })).toEqual(SIGNED_IN);
      await server.stop();
    } finally {
      data.remove();
    }
  });
});

describe('failed sign-ins', () => {
  let server: ServerProcess;
  /** Signed in before the address was limited: a cookie is no try of the token, and goes on working. */
  let cookie: string;
  beforeAll(async () => {
    server = await startServer(['--store', 'memory', '--faults'], { CHAT_TOKEN: TOKEN });
    cookie = await cookieFrom(server.url);
  });
  afterAll(async () => {
    await server.stop();
  });

  it('are limited per address: 10, then 429 with Retry-After and a reason, even for the right token', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await signIn(server.url, `guess ${i}`, { Accept: 'application/json' });
      expect(res.status).toBe(401);
      expect((await res.json()).error).toBe('that token is not right');
    }
    const refused = await signIn(server.url, 'guess 11', { Accept: 'application/json' });
    expect(refused.status).toBe(429);
    const wait = Number(refused.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(12); // 5 a minute: one more every 12 s
    expect((await refused.json()).error).toBe(`too many failed sign-ins from your address; retry in ${wait} s`);
    const page = await signIn(server.url, 'guess 12', { Accept: 'text/html' });
    expect(page.status).toBe(429);
    expect(page.headers.get('retry-after')).toBeTruthy();
    expect(await page.text()).toContain('Too many failed sign-ins from your address');
    const right = await signIn(server.url, TOKEN);
    expect(right.status).toBe(429);
    expect(right.headers.get('set-cookie')).toBeNull();
    // The Bearer header is a try of the token too: refused from this address while it lasts, the right one too.
    const bearer = await fetch(`${server.url}/rooms/main/messages`, { headers: BEARER });
    expect(bearer.status).toBe(429);
    expect(bearer.headers.get('retry-after')).toBeTruthy();
    expect((await bearer.json()).error).toStartWith('too many failed sign-ins from your address');
    // A browser signed in before goes on.
    expect(await access(server.url, { Cookie: cookie })).toEqual(SIGNED_IN);
  });

  it('10,000 at once get 401 or 429, never a 5xx, and leave the heap as it was', async () => {
    const heap = async () => ((await (await fetch(`${server.url}/debug/gc`, { method: 'POST', headers: { Cookie: cookie } })).json()) as { heapBytes: number }).heapBytes;
    const statuses = new Map<number, number>();
    const run = async (count: number) => {
      let next = 0;
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (next < count) {
          const i = next++;
          const res = await signIn(server.url, `wrong ${i}`, { Accept: i % 2 ? 'text/html' : 'application/json' });
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      }));
    };
    // Warm-up: the heap reaches its working size (Node's grows by some 800 KB over the first 10,000, then holds).
    await run(10_000);
    const before = await heap();
    statuses.clear();
    await run(10_000);
    const after = await heap();
    expect([...statuses.keys()].sort()).toEqual([429]); // the address was limited during the warm-up
    const growthKb = (after - before) / 1024;
    console.log(`heap after 10,000 failed sign-ins: ${(before / 1024).toFixed(0)} KB -> ${(after / 1024).toFixed(0)} KB`);
    expect(growthKb).toBeLessThan(512); // 100 KB on Bun, 200-300 KB on Node; keeping a 100-byte form per attempt grows it by 1 MB and more
  });
});

describe('behind a trusted proxy', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(['--store', 'memory', '--trust-proxy', '127.0.0.1,::1'], { CHAT_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("sends the cookie Secure when the proxy says the request came over https", async () => {
    const over = async (proto: string) => parseSetCookie((await signIn(server.url, TOKEN, { 'X-Forwarded-Proto': proto })).headers.get('set-cookie')).attributes;
    expect(await over('https')).toContain('Secure');
    expect(await over('http')).not.toContain('Secure');
  });

  it("counts failed sign-ins against the client's address, not the proxy's", async () => {
    const from = (address: string, token: string) => signIn(server.url, token, { 'X-Forwarded-For': address, Accept: 'application/json' });
    for (let i = 0; i < 10; i++) expect((await from('203.0.113.7', `guess ${i}`)).status).toBe(401);
    expect((await from('203.0.113.7', 'guess 11')).status).toBe(429);
    expect((await from('203.0.113.8', TOKEN)).status).toBe(303);
  });
});
