/**
 * `--auth jwt` against a real server: tokens another application signed (ES256 here) carry who someone is and the
 * rooms they may read and write; the page exchanges one for a session that ends when the token would; hostile
 * tokens are refused at the door. The full hostile suite against the verifier itself is tests/lib/jwt.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { openStream, startServer, tempDir, type ServerProcess } from '../helpers.ts';

describe('--auth jwt', () => {
  const dir = tempDir();
  let server: ServerProcess;
  let key: CryptoKey;
  let otherKey: CryptoKey;
  const sign = (claims: Record<string, unknown>, exp: string | number = '10m', with_ = () => key) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).setAudience('chat').setIssuedAt().setExpirationTime(exp).sign(with_());
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const postWith = (room: string, headers: Record<string, string>) =>
    fetch(`${server.url}/rooms/${room}/messages?name=mallory`, { method: 'POST', headers: { 'Content-Type': 'text/plain', Accept: 'application/json', ...headers }, body: 'hello' });

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    key = pair.privateKey;
    otherKey = (await generateKeyPair('ES256')).privateKey;
    writeFileSync(join(dir.path, 'public.pem'), await exportSPKI(pair.publicKey));
    server = await startServer(['--store', 'memory', '--auth', 'jwt', '--jwt-key', join(dir.path, 'public.pem'), '--jwt-alg', 'ES256', '--jwt-audience', 'chat']);
  });
  afterAll(async () => {
    await server.stop();
    dir.remove();
  });

  it("posts as the token's name, where its chat claim lets it write, and reads where it may read", async () => {
    const token = await sign({ sub: 'u-42', name: 'Dana', chat: { read: ['*'], write: ['team-*'] } });
    const posted = await postWith('team-a', bearer(token));
    expect(posted.status).toBe(201);
    expect((await posted.json()).name).toBe('Dana');
    expect((await postWith('lobby', bearer(token))).status).toBe(403);
    expect((await fetch(`${server.url}/rooms/lobby/messages`, { headers: bearer(token) })).status).toBe(200);
    expect((await fetch(`${server.url}/status/events`, { headers: bearer(token) })).status).toBe(403);
  });

  it('refuses a token signed by another key, expired, for another audience, or none at all', async () => {
    const claims = { sub: 'u-1', chat: { write: ['*'] } };
    for (const token of [
      await sign(claims, '10m', () => otherKey),
      await sign(claims, Math.floor(Date.now() / 1000) - 120),
      await new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).setAudience('another').setExpirationTime('10m').sign(key),
      'not.a.jwt',
    ]) {
      const res = await postWith('lobby', bearer(token));
      expect(res.status).toBe(401);
      expect((await res.json()).error).toStartWith('that JWT is not accepted');
    }
    expect((await postWith('lobby', {})).status).toBe(401);
  });

  it('exchanges a JWT for a session on POST /login, whose streams end when the token does', async () => {
    const exp = Math.floor(Date.now() / 1000) + 3;
    const token = await sign({ sub: 'u-7', name: 'Eve', chat: { write: ['*'] } }, exp);
    const res = await fetch(`${server.url}/login`, { method: 'POST', body: new URLSearchParams({ jwt: token, next: '/rooms/main' }), redirect: 'manual' });
    expect(res.status).toBe(303);
    const cookie = res.headers.get('set-cookie')!;
    expect(Number(cookie.match(/Max-Age=(\d+)/)![1])).toBeLessThanOrEqual(3);
    const pair = cookie.split(';')[0]!;
    expect((await postWith('main', { Cookie: pair })).status).toBe(201);
    const stream = await openStream(`${server.url}/rooms/main/events?history=0`, { Cookie: pair });
    expect(stream.status).toBe(200);
    const bye = await stream.next((e) => e.event === 'bye', 'the stream ending once the token expired', 6_000);
    expect(JSON.parse(bye.data)).toEqual({ reason: 'revoked' });
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    const wrong = await fetch(`${server.url}/login`, { method: 'POST', body: new URLSearchParams({ jwt: 'nope' }), headers: { Accept: 'application/json' } });
    expect(wrong.status).toBe(401);
  });
});
