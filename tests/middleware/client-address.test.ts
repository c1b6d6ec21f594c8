import { describe, expect, it } from 'bun:test';
import { Hono } from 'hono';
import type { AppEnv } from '../../middleware/app-env.ts';
import { clientAddress } from '../../middleware/client-address.ts';
import type { Runtime } from '../../runtime/platform.ts';

/** The middleware in front of a route that shows what it kept; `peer` is the socket the next request comes from. */
function appTrusting(list: string) {
  const peer = { address: '127.0.0.1', port: 5555 };
  const runtime: Runtime = { name: 'bun', peer: () => `${peer.address}:${peer.port}`, address: () => peer.address, keepOpen: () => {} };
  const app = new Hono<AppEnv>();
  app.use(clientAddress(list, runtime));
  app.get('/who', (c) => c.json(c.get('client')));
  const ask = async (headers: Record<string, string> = {}, url = 'http://chat.example/who') => (await app.request(url, { headers })).json();
  return { ask, peer };
}

describe('the client middleware', () => {
  it("keeps the client's address, https, and a peer for logs that names the proxy too", async () => {
    const { ask } = appTrusting('127.0.0.1');
    expect(await ask({ 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https' })).toEqual({
      address: '203.0.113.7', https: true, via: '127.0.0.1:5555', peer: '203.0.113.7 via 127.0.0.1:5555',
    });
    expect(await ask()).toEqual({ address: '127.0.0.1', https: false, via: null, peer: '127.0.0.1:5555' });
    expect(await ask({}, 'https://chat.example/who')).toMatchObject({ https: true });
  });

  it('believes no header from a peer outside the list, or with an empty list', async () => {
    const { ask, peer } = appTrusting('127.0.0.1');
    peer.address = '::ffff:127.0.0.2';
    expect(await ask({ 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https' })).toEqual({
      address: '127.0.0.2', https: false, via: null, peer: '::ffff:127.0.0.2:5555',
    });
    const none = appTrusting('');
    expect(await none.ask({ 'X-Forwarded-For': '203.0.113.7', Forwarded: 'for=203.0.113.8;proto=https' })).toMatchObject({ address: '127.0.0.1', https: false, via: null });
  });

  it('falls back to the peer on a header it cannot read', async () => {
    const { ask } = appTrusting('127.0.0.1');
    expect(await ask({ 'X-Forwarded-For': 'not an address' })).toEqual({ address: '127.0.0.1', https: false, via: null, peer: '127.0.0.1:5555' });
  });
});
