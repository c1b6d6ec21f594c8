import { describe, expect, it } from 'bun:test';
import { HTTPException } from 'hono/http-exception';
import { loadConfig } from '../../lib/config.ts';
import { appWithPeer } from './peer-app.ts';
import { createGuards } from '../../middleware/guards.ts';
import { createSignInLimit } from '../../middleware/sign-in-limit.ts';

/** The Bearer limit and the token guard in front of a stand-in route, as app.ts mounts them. */
function limitedApp(argv: string[]) {
  const config = loadConfig(['--store', 'memory', ...argv], {});
  const { app, peer } = appWithPeer(config);
  app.use(createSignInLimit(config, { perSecond: 1 / 60, burst: 3 }).bearer);
  app.use(createGuards(config).auth);
  app.get('/rooms/:room/messages', (c) => c.text('ok'));
  app.onError((error, c) => (error instanceof HTTPException ? error.getResponse() : c.text(String(error), 500)));
  const read = (authorization?: string) => app.request('/rooms/main/messages', { headers: authorization ? { Authorization: authorization } : {} });
  return { peer, read };
}

describe('wrong Bearer tokens', () => {
  it('are counted per address; past the burst every Bearer try from it gets 429 with Retry-After, the right one too', async () => {
    const { peer, read } = limitedApp(['--token', 's3cret token, long enough']);
    expect((await read('Bearer s3cret token, long enough')).status).toBe(200); // the right token is not counted
    for (let i = 0; i < 3; i++) expect((await read(`Bearer guess${i}`)).status).toBe(401);
    for (const token of ['guess', 's3cret token, long enough']) {
      const res = await read(`Bearer ${token}`);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await res.json()).error).toStartWith('too many failed sign-ins from your address; retry in ');
    }
    expect((await read()).status).toBe(401); // no token: no try, the guard's 401
    peer.address = '10.0.0.2';
    expect((await read('Bearer s3cret token, long enough')).status).toBe(200);
  });

  it('are not looked at without --token', async () => {
    const { read } = limitedApp([]);
    for (let i = 0; i < 10; i++) expect((await read(`Bearer guess${i}`)).status).toBe(200);
  });
});
