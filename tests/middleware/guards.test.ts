import { describe, expect, it } from 'bun:test';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { loadConfig } from '../../lib/config.ts';
import type { AppEnv, Deps } from '../../middleware/app-env.ts';
import { createGuards } from '../../middleware/guards.ts';
import { sessionValue } from '../../lib/auth.ts';

/**
 * The real guards in front of stand-in routes, mounted as app.ts mounts them. `peer.address` is the address the
 * runtime reports for the next request.
 */
function guardedApp(argv: string[]) {
  const guards = createGuards(loadConfig(['--store', 'memory', ...argv], {}));
  const peer = { address: '10.0.0.1' };
  const deps = {} as unknown as Deps; // guards read the client middleware's answer, not the deps
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set('deps', deps);
    c.set('client', { address: peer.address, peer: `${peer.address}:1`, https: false, via: null });
    await next();
  });
  app.use(guards.auth);
  app.use('/rooms/:room/messages', guards.postLimit);
  for (const path of ['/healthz', '/static/:file', '/login', '/rooms/:room', '/rooms/:room/events', '/rooms/:room/messages']) app.get(path, (c) => c.text('ok'));
  app.post('/rooms/:room/messages', (c) => c.text('stored', 201));
  app.onError((error, c) => (error instanceof HTTPException ? error.getResponse() : c.text(String(error), 500)));
  return { app, peer };
}

describe('the token guard', () => {
  const { app } = guardedApp(['--token', 's3cret token, long enough']);

  it('refuses a request without the token, or with a wrong one, with 401, a reason and a Bearer challenge', async () => {
    for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: 's3cret token, long enough' }, { Cookie: 'chat_session=wrong' }, { Cookie: 'chat_session=s3cret' }, { Cookie: `chat_session=${sessionValue('other')}` }] as Record<string, string>[]) {
      const res = await app.request('/rooms/main/messages', { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="threadchat"');
      expect((await res.json()).error).toBe('this server needs a token: send "Authorization: Bearer <token>" (or sign in on the page)');
    }
  });

  it('lets the token through as a Bearer header (any case), or the sign-in cookie derived from it', async () => {
    for (const headers of [{ Authorization: 'Bearer s3cret token, long enough' }, { Authorization: 'bearer  s3cret token, long enough ' }, { Cookie: `chat_session=${sessionValue('s3cret token, long enough')}` }] as Record<string, string>[]) {
      expect((await app.request('/rooms/main/messages', { headers })).status).toBe(200);
      expect((await app.request('/rooms/main/messages', { method: 'POST', headers })).status).toBe(201);
    }
  });

  it('needs no token for health, static files and the sign-in page', async () => {
    for (const path of ['/healthz', '/static/app.css', '/login']) expect((await app.request(path)).status).toBe(200);
  });

  it('sends a browser asking for a page to sign in, and back after; streams and posts get 401', async () => {
    const page = await app.request('/rooms/main?x=1', { headers: { Accept: 'text/html' } });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Frooms%2Fmain');
    expect((await app.request('/rooms/main/events', { headers: { Accept: 'text/html' } })).status).toBe(401);
    expect((await app.request('/rooms/main/messages', { method: 'POST', headers: { Accept: 'text/html' } })).status).toBe(401);
  });

  it('checks nothing when no token is configured', async () => {
    expect((await guardedApp([]).app.request('/rooms/main/messages')).status).toBe(200);
  });
});

describe('the post limits', () => {
  // 1 message a second keeps coming back: well under one token in the few milliseconds a test takes.
  const LIMITS = ['--post-rate', '1', '--post-burst', '2', '--post-rate-ip', '1', '--post-burst-ip', '4'];
  const post = (app: Hono<AppEnv>, client?: string, via: 'header' | 'query' = 'header') =>
    app.request(`/rooms/main/messages${client && via === 'query' ? `?client=${client}` : ''}`, {
      method: 'POST',
      headers: client && via === 'header' ? { 'X-Client-Id': client } : {},
    });
  const expectRefused = async (res: Response, who: string) => {
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await res.json()).error).toBe(`too many messages from ${who}; retry in 1 s`);
  };

  it('gives a client id its burst, then 429 with Retry-After, while another client at the address goes on', async () => {
    const { app } = guardedApp(LIMITS);
    expect((await post(app, 'a')).status).toBe(201);
    expect((await post(app, 'a', 'query')).status).toBe(201); // the query names the same client
    await expectRefused(await post(app, 'a'), 'this client');
    expect((await post(app, 'b')).status).toBe(201);
  });

  it('gives an address its burst whatever the client ids, and other addresses theirs', async () => {
    const { app, peer } = guardedApp(LIMITS);
    for (const client of ['a', 'b', undefined, 'c']) expect((await post(app, client)).status).toBe(201);
    await expectRefused(await post(app, 'd'), 'your address');
    await expectRefused(await post(app), 'your address');
    peer.address = '10.0.0.2';
    expect((await post(app, 'd')).status).toBe(201);
  });

  it("spends nothing of the address's burst on a client already refused", async () => {
    const { app } = guardedApp(LIMITS);
    expect((await post(app, 'a')).status).toBe(201);
    expect((await post(app, 'a')).status).toBe(201);
    for (let i = 0; i < 5; i++) await expectRefused(await post(app, 'a'), 'this client');
    expect((await post(app, 'b')).status).toBe(201); // the address has spent 2 of 4, not 7
    expect((await post(app, 'b')).status).toBe(201);
    await expectRefused(await post(app, 'c'), 'your address');
  });

  it('limits posts only: reading is never refused', async () => {
    const { app } = guardedApp(LIMITS);
    for (let i = 0; i < 10; i++) expect((await app.request('/rooms/main/messages', { headers: { 'X-Client-Id': 'a' } })).status).toBe(200);
  });

  it('does not limit at a rate of 0', async () => {
    const { app } = guardedApp(['--post-rate', '0', '--post-burst', '1', '--post-rate-ip', '0', '--post-burst-ip', '1']);
    for (let i = 0; i < 10; i++) expect((await post(app, 'a')).status).toBe(201);
  });
});
