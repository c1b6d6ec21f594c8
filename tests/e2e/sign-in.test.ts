/**
 * The sign-in in token mode, against real servers: the session cookie (its attributes, a random id, a new one at
 * each sign-in), sign-out revoking the session, a token change signing everyone out, --token-file kept out of the
 * command line, failed sign-ins limited without a lockout of those who signed in before, and bad input (huge or
 * malformed cookies, 10,000 failed sign-ins).
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
    expect(await access(server.url, { Authorization: `Bearer ${TOKEN}x` })).toEqual([401, 401, 401]); // a wrong credential is no sign-in page
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
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 random bits, base64url
    for (const form of [TOKEN, encodeURIComponent(TOKEN), Buffer.from(TOKEN).toString('base64url')]) expect(value).not.toContain(form);
    expect(res.headers.get('set-cookie')).not.toContain(TOKEN);
  });

  it('gives every sign-in its own session id, and ends the one the browser held when it signs in again', async () => {
    const first = await cookieFrom(server.url);
    const second = await cookieFrom(server.url);
    expect(second).not.toBe(first); // one browser's cookie is not every browser's
    expect(await access(server.url, { Cookie: first })).toEqual(SIGNED_IN);
    const again = await signIn(server.url, TOKEN, { Cookie: first });
    const rotated = parseSetCookie(again.headers.get('set-cookie')).pair;
    expect(rotated).not.toBe(first);
    expect(await access(server.url, { Cookie: first })).toEqual(SIGNED_OUT); // no fixation: the id held before is gone
    expect(await access(server.url, { Cookie: rotated })).toEqual(SIGNED_IN);
    expect(await access(server.url, { Cookie: second })).toEqual(SIGNED_IN);
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
    // A browser that took the clearing sends no cookie: signed out. One that kept the value (a copy, a thief) is
    // signed out too: the session ended on the server.
    expect(await access(server.url, { Cookie: cleared.pair })).toEqual(SIGNED_OUT);
    expect(await access(server.url, { Cookie: cookie })).toEqual(SIGNED_OUT);
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
  it('signs everyone out, while a server started again with the same token keeps the sessions', async () => {
    const data = tempDir();
    const start = (token: string) => startServer(['--data', data.path], { CHAT_TOKEN: token });
    const NEW = 'a new token, long enough';
    try {
      let server = await start(TOKEN);
      const cookie = await cookieFrom(server.url);
      expect(await access(server.url, { Cookie: cookie })).toEqual(SIGNED_IN);
      await server.stop();

      server = await start(NEW);
      expect(await access(server.url, { Cookie: cookie })).toEqual(SIGNED_OUT);
      const renewed = await cookieFrom(server.url, NEW);
      expect(await access(server.url, { Cookie: renewed })).toEqual(SIGNED_IN);
      await server.stop();

      server = await start(NEW); // the sessions are in the store: a restart signs nobody out
      expect(await access(server.url, { Cookie: renewed })).toEqual(SIGNED_IN);
      expect(await access(server.url, { Cookie: cookie })).toEqual(SIGNED_OUT);
      await server.stop();
    } finally {
      data.remove();
    }
  });
});

describe('failed sign-ins (clients told apart by X-Forwarded-For from a trusted proxy)', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(['--store', 'memory', '--faults', '--trust-proxy', '127.0.0.1,::1'], { CHAT_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await server.stop();
  });
  const from = (address: string, token: string, accept = 'application/json') =>
    signIn(server.url, token, { 'X-Forwarded-For': address, Accept: accept });

  it('are limited per address: 10, then 429 with Retry-After and a reason, from an address nobody signed in from', async () => {
    const stranger = '203.0.113.20';
    for (let i = 0; i < 10; i++) {
      const res = await from(stranger, `guess ${i}`);
      expect(res.status).toBe(401);
      expect((await res.json()).error).toBe('that token is not right');
    }
    const refused = await from(stranger, 'guess 11');
    expect(refused.status).toBe(429);
    const wait = Number(refused.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(12); // 5 a minute: one more every 12 s
    expect((await refused.json()).error).toBe(`too many failed sign-ins; retry in ${wait} s`);
    const page = await from(stranger, 'guess 12', 'text/html');
    expect(page.status).toBe(429);
    expect(page.headers.get('retry-after')).toBeTruthy();
    expect(await page.text()).toContain('Too many failed sign-ins');
    // The Bearer header is a try of the token too: refused from this address while it lasts.
    const bearer = await fetch(`${server.url}/rooms/main/messages`, { headers: { 'X-Forwarded-For': stranger, Authorization: 'Bearer guess 13' } });
    expect(bearer.status).toBe(429);
    expect(bearer.headers.get('retry-after')).toBeTruthy();
    // /healthz and the static files never look at credentials: neither refused nor counted.
    for (const path of ['/healthz', '/static/app.css', '/login']) {
      const open = await fetch(`${server.url}${path}`, { headers: { 'X-Forwarded-For': stranger, Authorization: 'Bearer guess 14' } });
      expect(`${path} ${open.status}`).not.toStartWith(`${path} 4`);
    }
  });

  it('never lock out the right token where it was used before: one guesser behind a NAT slows, not stops, the others', async () => {
    const nat = '203.0.113.30';
    const before = await from(nat, TOKEN);
    expect(before.status).toBe(303); // someone behind the NAT signed in earlier
    for (let i = 0; i < 12; i++) expect((await from(nat, `guess ${i}`)).status).toBe(401); // past the bucket: one a second
    const right = await from(nat, TOKEN);
    expect(right.status).toBe(303);
    expect(await access(server.url, { Cookie: parseSetCookie(right.headers.get('set-cookie')).pair })).toEqual(SIGNED_IN);
  });

  it('reads at most 4 KiB of a sign-in, and not a byte once the address is limited', async () => {
    const rssMb = () => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))![1]) / 1024;
    const before = rssMb();
    /** A body of `mb` MiB, streamed, so this side holds only a chunk at a time. */
    const huge = (mb: number) => {
      const chunk = new Uint8Array(1024 * 1024).fill(0x61);
      let sent = 0;
      return new ReadableStream<Uint8Array>({ pull: (c) => (sent++ < mb ? c.enqueue(chunk) : c.close()) });
    };
    const send = (from: string) => fetch(`${server.url}/login`, {
      method: 'POST', body: huge(100), duplex: 'half', headers: { 'X-Forwarded-For': from, 'Content-Type': 'application/x-www-form-urlencoded' },
    } as RequestInit).then((r) => r.status, () => 0); // 0: the server closed the connection mid-body, as it may
    const statuses = await Promise.all(['203.0.113.50', '203.0.113.51', '203.0.113.52'].map(send));
    for (const status of statuses) expect([0, 413]).toContain(status);
    console.log(`three 100 MiB sign-ins: ${statuses.join(', ')}; RSS ${before.toFixed(0)} -> ${rssMb().toFixed(0)} MB`);
    expect(rssMb() - before).toBeLessThan(60); // the bodies were refused, not held (it was +760 MB)
    // A limited address is refused before its body is read.
    for (let i = 0; i < 10; i++) await from('203.0.113.53', `guess ${i}`);
    expect(await send('203.0.113.53')).toBeOneOf([0, 429]);
  });

  it('10,000 at once get 401 or 429, never a 5xx, and leave the heap as it was', async () => {
    const heap = async () => ((await (await fetch(`${server.url}/debug/gc`, { method: 'POST', headers: BEARER })).json()) as { heapBytes: number }).heapBytes;
    const statuses = new Map<number, number>();
    const run = async (count: number) => {
      let next = 0;
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (next < count) {
          const i = next++;
          const res = await from('203.0.113.40', `wrong ${i}`, i % 2 ? 'text/html' : 'application/json');
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
