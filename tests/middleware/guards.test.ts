import { describe, expect, it } from 'bun:test';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { loadConfig } from '../../lib/config.ts';
import type { AppEnv, Deps } from '../../middleware/app-env.ts';
import { createGuards } from '../../middleware/guards.ts';

/**
 * The real guards in front of stand-in routes, mounted as app.ts mounts them, for an anonymous sender (as the door,
 * middleware/identify.ts, decides it: its address). `peer.address` is the address of the next request.
 */
function guardedApp(argv: string[]) {
  const guards = createGuards(loadConfig(['--store', 'memory', ...argv], {}));
  const peer = { address: '10.0.0.1' };
  const deps = {} as unknown as Deps; // guards read the client middleware's answer, not the deps
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set('deps', deps);
    c.set('client', { address: peer.address, peer: `${peer.address}:1`, https: false, via: null });
    c.set('who', { id: `anon:${peer.address}`, name: null, via: 'anonymous', admin: false, rules: { '*': 'read-write' }, session: null });
    await next();
  });
  app.use('/rooms/:room/messages', guards.postLimit);
  for (const path of ['/healthz', '/static/:file', '/login', '/rooms/:room', '/rooms/:room/events', '/rooms/:room/messages']) app.get(path, (c) => c.text('ok'));
  app.post('/rooms/:room/messages', (c) => c.text('stored', 201));
  app.onError((error, c) => (error instanceof HTTPException ? error.getResponse() : c.text(String(error), 500)));
  return { app, peer };
}

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
    await expectRefused(await post(app, 'a'), 'you');
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
    for (let i = 0; i < 5; i++) await expectRefused(await post(app, 'a'), 'you');
    expect((await post(app, 'b')).status).toBe(201); // the address has spent 2 of 4, not 7
    expect((await post(app, 'b')).status).toBe(201);
    await expectRefused(await post(app, 'c'), 'your address');
  });

  it("never spends a client's bucket on posts from another address that send its client id", async () => {
    const { app, peer } = guardedApp(LIMITS);
    peer.address = '10.9.9.9'; // a stranger, sending bob's client id
    for (let i = 0; i < 4; i++) await post(app, 'bob-123');
    peer.address = '10.0.0.1'; // bob
    expect((await post(app, 'bob-123')).status).toBe(201);
    expect((await post(app, 'bob-123')).status).toBe(201);
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
