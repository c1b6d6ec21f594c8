import { describe, expect, it } from 'bun:test';
import { loadConfig } from '../../lib/config.ts';
import { sessionValue } from '../../lib/auth.ts';
import { appWithPeer } from '../middleware/peer-app.ts';
import { createLogin } from '../../routes/login.ts';
import { createSignInLimit, SIGN_IN_LIMIT } from '../../middleware/sign-in-limit.ts';

/** The sign-in routes alone, with the address the runtime reports for the next request in `peer.address`. */
function loginApp(limit: Parameters<typeof createSignInLimit>[1] = SIGN_IN_LIMIT) {
  const config = loadConfig(['--store', 'memory', '--token', 's3cret token, long enough'], {});
  const { app, peer } = appWithPeer(config);
  app.route('/', createLogin(createSignInLimit(config, limit)));
  const signIn = (token: string, url = 'http://localhost/login') =>
    app.request(url, { method: 'POST', body: new URLSearchParams({ token }), headers: { Accept: 'application/json' } });
  return { peer, signIn };
}

describe('the sign-in cookie value', () => {
  it('is the same for the same token in any process, differs by token, and is not the token', () => {
    expect(sessionValue('s3cret token, long enough')).toBe(sessionValue('s3cret token, long enough'));
    expect(sessionValue('s3cret token, long enough')).not.toBe(sessionValue('s3cret2'));
    expect(sessionValue('s3cret token, long enough')).not.toContain('s3cret token, long enough');
    // HMAC-SHA256 keyed by the token over a fixed label (as openssl dgst -sha256 -hmac s3cret computes it): pinned,
    // so a change that would sign everyone out is seen.
    expect(sessionValue('s3cret token, long enough')).toBe('nycWuenKjsvLFlehM2kFfnwUxb-MrxuM9IGA6Iq3BOY');
  });

  it('is sent Secure when the request came over https', async () => {
    const { signIn } = loginApp();
    expect((await signIn('s3cret token, long enough', 'https://chat.example/login')).headers.get('set-cookie')).toContain('; Secure');
    expect((await signIn('s3cret token, long enough', 'http://chat.example/login')).headers.get('set-cookie')).not.toContain('Secure');
  });
});

describe('failed sign-ins', () => {
  it('are counted per address', async () => {
    const { peer, signIn } = loginApp({ perSecond: 1 / 60, burst: 2 });
    expect((await signIn('a')).status).toBe(401);
    expect((await signIn('b')).status).toBe(401);
    expect((await signIn('c')).status).toBe(429);
    peer.address = '10.0.0.2';
    expect((await signIn('d')).status).toBe(401);
    expect((await signIn('s3cret token, long enough')).status).toBe(303);
  });

  it('are remembered for a bounded number of addresses, the least recently used forgotten', async () => {
    const { peer, signIn } = loginApp({ perSecond: 1 / 60, burst: 1, maxKeys: 100 });
    expect((await signIn('a')).status).toBe(401);
    expect((await signIn('a')).status).toBe(429);
    for (let i = 0; i < 100; i++) {
      peer.address = `10.1.0.${i}`;
      expect((await signIn('x')).status).toBe(401);
    }
    peer.address = '10.0.0.1';
    expect((await signIn('a')).status).toBe(401); // forgotten: it starts full again
  });
});
