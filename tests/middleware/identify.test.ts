/**
 * The door: credentials become one identity, wrong ones are limited without locking out the right one, sessions
 * are server-side, rotated at sign-in and revoked at sign-out, and each room's routes check the identity's rights.
 * The whole app in process (a memory store, a real hub).
 */
import { describe, expect, it } from 'bun:test';
import { hashPassword } from '../../lib/passwords.ts';
import { digestOf, newSecret } from '../../lib/secrets.ts';
import { memoryApp } from '../routes/memory-app.ts';

const TOKEN = 'the shared token, long enough';
const json = { Accept: 'application/json' };
const bearer = (token: string) => ({ ...json, Authorization: `Bearer ${token}` });
const basic = (name: string, password: string) => ({ ...json, Authorization: `Basic ${btoa(`${name}:${password}`)}` });
const cookieOf = (res: Response) => res.headers.get('set-cookie')?.split(';')[0] ?? '';

describe('token mode', () => {
  const { app, peer } = memoryApp(['--token', TOKEN]);
  const read = (headers: Record<string, string> = json) => app.request('http://localhost/rooms/main/messages', { headers });
  const signIn = (token: string, headers: Record<string, string> = {}, url = 'http://localhost/login') =>
    app.request(url, { method: 'POST', body: new URLSearchParams({ token, next: '/rooms/main' }), headers: { ...json, ...headers }, redirect: 'manual' });

  it('needs the token: 401 with a challenge without it or with a wrong one, and a page asks to sign in', async () => {
    for (const headers of [json, bearer('wrong'), { ...json, Authorization: TOKEN }, { ...json, Cookie: 'chat_session=guess' }]) {
      const res = await read(headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer realm="threadchat"');
    }
    expect((await read(bearer(TOKEN))).status).toBe(200);
    const page = await app.request('http://localhost/rooms/main?x=1', { headers: { Accept: 'text/html' } });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Frooms%2Fmain');
  });

  it('signs a browser in with a new random session id each time, never derived from the token, and signs it out for good', async () => {
    peer.address = '10.0.1.1';
    const first = await signIn(TOKEN);
    expect(first.status).toBe(303);
    const cookie = cookieOf(first);
    expect(cookie).toMatch(/^chat_session=[\w-]{43}$/);
    expect(first.headers.get('set-cookie')).toContain('HttpOnly');
    expect(first.headers.get('set-cookie')).toContain('SameSite=Strict');
    expect(cookieOf(await signIn(TOKEN))).not.toBe(cookie); // every sign-in its own session
    expect((await read({ ...json, Cookie: cookie })).status).toBe(200);
    const out = await app.request('http://localhost/logout', { method: 'POST', headers: { Cookie: cookie } });
    expect(out.status).toBe(204);
    expect((await read({ ...json, Cookie: cookie })).status).toBe(401); // a copy of the cookie is worth nothing now
  });

  it('rotates the session at sign-in: a session id planted before it never becomes a signed-in one (fixation)', async () => {
    peer.address = '10.0.1.2';
    const planted = `chat_session=${newSecret()}`;
    const res = await signIn(TOKEN, { Cookie: planted });
    expect(cookieOf(res)).not.toBe(planted);
    expect((await read({ ...json, Cookie: planted })).status).toBe(401);
    expect((await read({ ...json, Cookie: cookieOf(res) })).status).toBe(200);
  });

  it('uses a __Host- cookie, Secure, over https', async () => {
    peer.address = '10.0.1.3';
    const res = await signIn(TOKEN, {}, 'https://localhost/login');
    expect(res.headers.get('set-cookie')).toStartWith('__Host-chat_session=');
    expect(res.headers.get('set-cookie')).toContain('Secure');
    expect(res.headers.get('set-cookie')).toContain('Path=/');
    const cookie = cookieOf(res);
    expect((await app.request('https://localhost/rooms/main/messages', { headers: { ...json, Cookie: cookie } })).status).toBe(200);
  });

  it('limits wrong tokens per address, but never refuses the right one where it was used before, nor health or static files', async () => {
    peer.address = '10.0.2.1';
    expect((await read(bearer(TOKEN))).status).toBe(200); // this address is known for the token now
    for (let i = 0; i < 12; i++) await read(bearer(`guess ${i}`)); // someone else behind the same address guesses
    // Past the burst, tries from a place the token was used from are slowed to one a second, not refused.
    const started = Date.now();
    expect((await read(bearer('guess again'))).status).toBe(401);
    expect((await read(bearer(TOKEN))).status).toBe(200); // the right token from here still works
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // the second try waited its turn
    peer.address = '10.0.2.2';
    for (let i = 0; i < 12; i++) await read(bearer(`guess ${i}`));
    const limited = await read(bearer('one more'));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    for (const path of ['/healthz', '/static/app.css']) expect((await app.request(`http://localhost${path}`, { headers: bearer('x') })).status).toBe(200);
    expect((await app.request('http://localhost/login', { headers: { Accept: 'text/html' } })).status).toBe(200);
  });

  it('reads nothing of a sign-in body over 4 KiB, and checks a limited address before the body', async () => {
    peer.address = '10.0.3.1';
    const big = await app.request('http://localhost/login', { method: 'POST', body: new URLSearchParams({ token: 'x'.repeat(5000) }), headers: json });
    expect(big.status).toBe(413);
    for (let i = 0; i < 12; i++) await signIn(`guess ${i}`);
    // A body that never ends: were it read first, the answer would be the body timeout's 408, seconds later.
    const body = new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode('token=x')) });
    const res = await app.request('http://localhost/login', { method: 'POST', body, headers: { ...json, 'Content-Type': 'application/x-www-form-urlencoded' }, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

describe('accounts mode', () => {
  const { app, store, peer } = memoryApp(['--auth', 'accounts', '--post-rate', '0', '--post-rate-ip', '0']);
  const PASSWORD = 'correct horse battery';
  const ready = (async () => {
    await store.putAccount({ name: 'alice', passwordHash: await hashPassword(PASSWORD), admin: false, access: { '*': 'read-write', 'secret-*': 'deny', announcements: 'read-only' }, created: Date.now() });
    await store.putAccount({ name: 'root', passwordHash: await hashPassword(PASSWORD), admin: true, access: {}, created: Date.now() });
    await store.addAccessToken(digestOf('tc_alices-token'), { name: 'alice', created: Date.now(), expires: null });
  })();
  const post = (room: string, headers: Record<string, string>, text = 'hi') =>
    app.request(`http://localhost/rooms/${room}/messages?name=bob`, { method: 'POST', body: text, headers: { ...headers, 'Content-Type': 'text/plain' } });

  it('signs in with Basic credentials or an access token, and posts under the account name whatever the request says', async () => {
    await ready;
    const res = await post('main', basic('alice', PASSWORD));
    expect(res.status).toBe(201);
    expect(((await res.json()) as { name: string }).name).toBe('alice');
    const viaToken = await post('main', bearer('tc_alices-token'));
    expect(((await viaToken.json()) as { name: string }).name).toBe('alice');
    expect((await post('main', basic('alice', 'wrong password'))).status).toBe(401);
    expect((await post('main', basic('nobody', PASSWORD))).status).toBe(401);
    expect((await post('main', bearer('tc_not-a-token'))).status).toBe(401);
    expect((await post('main', json)).status).toBe(401); // --default-access deny: the anonymous may do nothing
  });

  it('gives each room the rights its patterns say: 403 for history, stream, members, typing and posts where denied', async () => {
    await ready;
    const alice = basic('alice', PASSWORD);
    for (const path of ['/rooms/secret-plans/messages', '/rooms/secret-plans/events', '/rooms/secret-plans/members']) {
      expect((await app.request(`http://localhost${path}`, { headers: alice })).status).toBe(403);
    }
    expect((await app.request('http://localhost/rooms/secret-plans/typing', { method: 'POST', headers: { ...alice, 'X-Client-Id': 'c1' } })).status).toBe(403);
    expect((await post('secret-plans', alice)).status).toBe(403);
    expect((await app.request('http://localhost/rooms/announcements/messages', { headers: alice })).status).toBe(200);
    expect((await post('announcements', alice)).status).toBe(403); // read-only
    expect((await post('announcements', basic('root', PASSWORD))).status).toBe(201); // an admin may
  });

  it('keeps /status and /metrics for admins', async () => {
    await ready;
    expect((await app.request('http://localhost/metrics', { headers: basic('alice', PASSWORD) })).status).toBe(403);
    expect((await app.request('http://localhost/metrics', { headers: basic('root', PASSWORD) })).status).toBe(200);
    expect((await app.request('http://localhost/status', { headers: json })).status).toBe(401);
  });

  it('signs in on the form with user and password, and a revoked session or a changed access applies at once', async () => {
    await ready;
    peer.address = '10.1.0.1';
    const res = await app.request('http://localhost/login', { method: 'POST', body: new URLSearchParams({ user: 'alice', password: PASSWORD }), redirect: 'manual' });
    expect(res.status).toBe(303);
    const cookie = { ...json, Cookie: cookieOf(res) };
    expect((await app.request('http://localhost/rooms/team/messages', { headers: cookie })).status).toBe(200);
    await store.setAccess('alice', 'team', 'deny');
    expect((await app.request('http://localhost/rooms/team/messages', { headers: cookie })).status).toBe(403);
    await store.deleteSessionsOf('user:alice'); // what `user passwd` does
    expect((await app.request('http://localhost/rooms/main/messages', { headers: cookie })).status).toBe(401);
  });
});

describe('open mode', () => {
  const { app } = memoryApp([]);
  it('takes no credentials: anyone reads and posts, and a Bearer header changes nothing', async () => {
    expect((await app.request('http://localhost/rooms/main/messages', { headers: bearer('anything') })).status).toBe(200);
    const res = await app.request('http://localhost/rooms/main/messages?name=ann', { method: 'POST', body: 'hi', headers: { 'Content-Type': 'text/plain' } });
    expect(res.status).toBe(201);
    expect((await app.request('http://localhost/login', { redirect: 'manual' })).status).toBe(303);
  });
});
