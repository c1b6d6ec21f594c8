/**
 * The JWT verifier (lib/jwt.ts) against hostile tokens (OWASP's JWT cheat sheet, RFC 8725), and the good tokens of
 * each algorithm. Keys are made here and written as PEM files, read back by lib/jwt-key.ts as the server would.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWTPayload, type JWTHeaderParameters } from 'jose';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JwtAlg } from '../../lib/config.ts';
import { may } from '../../lib/identity.ts';
import { createJwtVerifier, JwtError, MAX_PATTERNS, MAX_TOKEN_LENGTH, type JwtProblem } from '../../lib/jwt.ts';
import { readJwtKey } from '../../lib/jwt-key.ts';
import { tempDir } from '../helpers.ts';

const dir = tempDir('threadchat-jwt-');
afterAll(() => dir.remove());

const AUD = 'threadchat';
const ISS = 'https://issuer.example';
const now = () => Math.floor(Date.now() / 1000);

type Pair = { publicKey: CryptoKey; privateKey: CryptoKey };
const pair = (alg: string, options: { modulusLength?: number } = {}) => generateKeyPair(alg, { extractable: true, ...options }) as Promise<Pair>;
const [rsa, ec, ed, otherRsa, attacker] = await Promise.all([pair('RS256'), pair('ES256'), pair('EdDSA'), pair('RS256'), pair('RS256')]);
const rsaPem = await exportSPKI(rsa.publicKey);
const secret = randomBytes(48).toString('base64url'); // 64 characters: the HS256 secret as a file holds it

/** A verifier as the server makes it: the key file written, read back and checked, then the verifier. */
async function serverFor(alg: JwtAlg, pem: string, options: { audience?: string; issuer?: string } = { audience: AUD, issuer: ISS }) {
  const path = join(dir.path, `${alg}-${Math.random().toString(36).slice(2)}.key`);
  writeFileSync(path, pem);
  const settings = await readJwtKey({ auth: 'jwt', 'jwt-key': path, 'jwt-alg': alg, 'jwt-audience': options.audience ?? '', 'jwt-issuer': options.issuer ?? '' });
  return createJwtVerifier(settings!);
}
const rs256 = await serverFor('RS256', rsaPem);
const es256 = await serverFor('ES256', await exportSPKI(ec.publicKey));
const eddsa = await serverFor('EdDSA', await exportSPKI(ed.publicKey));
const hs256 = await serverFor('HS256', `${secret}\n`);

/** Claims a good token carries; `extra` overrides them, and a key set to undefined is left out. */
function claims(extra: Record<string, unknown> = {}): JWTPayload {
  const all: Record<string, unknown> = { sub: 'alice', name: 'Alice', aud: AUD, iss: ISS, iat: now(), exp: now() + 600, chat: { read: ['lobby'], write: ['team-*'] }, ...extra };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
}

/** Signs with jose, RS256 with the server's own key unless told otherwise. */
function sign(payload: JWTPayload, opts: { alg?: string; key?: CryptoKey | Uint8Array; header?: Partial<JWTHeaderParameters> } = {}) {
  const { alg = 'RS256', key = rsa.privateKey, header = {} } = opts;
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT', ...header }).sign(key);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** RS256 over any header, signed with WebCrypto: for headers jose will not sign (an unknown `crit`). */
async function signRaw(header: Record<string, unknown>, payload: JWTPayload, key: CryptoKey = rsa.privateKey) {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, new TextEncoder().encode(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

/** The refusal: a JwtError with `problem`; its message is returned so a test can read it. */
async function refused(verifier: { verify(token: string): Promise<unknown> }, token: string, problem: JwtProblem): Promise<string> {
  let outcome: unknown;
  try {
    outcome = await verifier.verify(token);
  } catch (error) {
    expect(error).toBeInstanceOf(JwtError);
    expect({ problem: (error as JwtError).problem, message: (error as JwtError).message }).toMatchObject({ problem });
    return (error as JwtError).message;
  }
  throw new Error(`accepted a token that should be refused (${problem}): ${JSON.stringify(outcome)}`);
}

describe('hostile tokens', () => {
  it('refuses an unsecured token (alg: none), however the header spells it', async () => {
    await refused(rs256, new UnsecuredJWT(claims()).encode(), 'algorithm');
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      for (const signature of ['', 'AAAA']) await refused(rs256, `${b64({ alg, typ: 'JWT' })}.${b64(claims())}.${signature}`, 'algorithm');
    }
    await refused(hs256, new UnsecuredJWT(claims()).encode(), 'algorithm');
  });

  it('refuses HS256 signed with the RSA public key PEM as the secret on an RS256 server (key confusion)', async () => {
    const forged = await sign(claims({ chat: { admin: true } }), { alg: 'HS256', key: new TextEncoder().encode(rsaPem) });
    await refused(rs256, forged, 'algorithm');
    // And a verifier cannot be made that way: HS256 takes a secret, never a public key.
    expect(() => createJwtVerifier({ key: rsa.publicKey, alg: 'HS256' })).toThrow('a HS256 verifier needs a secret key, not a public one');
  });

  it('refuses a token of another algorithm: ES256 or EdDSA to an RS256 server, and RS384 or PS256 made with its own key', async () => {
    await refused(rs256, await sign(claims(), { alg: 'ES256', key: ec.privateKey }), 'algorithm');
    await refused(rs256, await sign(claims(), { alg: 'EdDSA', key: ed.privateKey }), 'algorithm');
    const rs384 = await generateKeyPair('RS384', { extractable: true });
    await refused(rs256, await sign(claims(), { alg: 'RS384', key: rs384.privateKey }), 'algorithm');
    const ps256 = await generateKeyPair('PS256', { extractable: true });
    await refused(rs256, await sign(claims(), { alg: 'PS256', key: ps256.privateKey }), 'algorithm');
    await refused(es256, await sign(claims()), 'algorithm');
  });

  it('refuses an expired token, past the 30 s of clock tolerance', async () => {
    await refused(rs256, await sign(claims({ exp: now() - 31 - 1 })), 'expired');
    await refused(rs256, await sign(claims({ exp: now() - 3600 })), 'expired');
    expect((await rs256.verify(await sign(claims({ exp: now() - 10 })))).who.id).toBe('jwt:alice'); // within the tolerance
  });

  it('refuses a token whose nbf is in the future, past the tolerance', async () => {
    await refused(rs256, await sign(claims({ nbf: now() + 120 })), 'not-yet-valid');
    expect((await rs256.verify(await sign(claims({ nbf: now() + 10 })))).who.id).toBe('jwt:alice');
  });

  it('refuses a wrong or missing aud when an audience is configured', async () => {
    await refused(rs256, await sign(claims({ aud: 'another-app' })), 'audience');
    await refused(rs256, await sign(claims({ aud: ['another-app', 'a-third'] })), 'audience');
    await refused(rs256, await sign(claims({ aud: undefined })), 'missing-claim');
    expect((await rs256.verify(await sign(claims({ aud: ['another-app', AUD] })))).who.id).toBe('jwt:alice');
  });

  it('refuses a wrong or missing iss when an issuer is configured', async () => {
    await refused(rs256, await sign(claims({ iss: 'https://evil.example' })), 'issuer');
    await refused(rs256, await sign(claims({ iss: `${ISS}/` })), 'issuer');
    await refused(rs256, await sign(claims({ iss: undefined })), 'missing-claim');
  });

  it('checks neither aud nor iss when none is configured', async () => {
    const open = await serverFor('RS256', rsaPem, {});
    expect((await open.verify(await sign(claims({ aud: undefined, iss: undefined })))).who.id).toBe('jwt:alice');
  });

  it('refuses a token without sub, or with a sub that is not a clean string', async () => {
    expect(await refused(rs256, await sign(claims({ sub: undefined })), 'missing-claim')).toBe('token has no "sub" claim');
    for (const sub of [42, '', '   ', 'a\u0000b', 'line\nbreak', 'x'.repeat(257), ['alice']]) await refused(rs256, await sign(claims({ sub })), 'claims');
  });

  it('refuses a token without exp, or with an exp that is not a number', async () => {
    expect(await refused(rs256, await sign(claims({ exp: undefined })), 'missing-claim')).toBe('token has no "exp" claim');
    await refused(rs256, await sign(claims({ exp: String(now() + 600) })), 'claims');
    await refused(rs256, await sign(claims({ exp: 1e300 })), 'claims');
  });

  it('refuses a token over 8 KiB before parsing it, even one signed with the right key, and cheaply', async () => {
    const big = await sign(claims({ pad: 'x'.repeat(1024 * 1024) }));
    expect(big.length).toBeGreaterThan(1024 * 1024);
    expect(await refused(rs256, big, 'too-long')).toBe(`token is longer than ${MAX_TOKEN_LENGTH} characters`);
    await refused(rs256, 'x'.repeat(MAX_TOKEN_LENGTH + 1), 'too-long');
    await refused(rs256, 'x'.repeat(MAX_TOKEN_LENGTH), 'malformed'); // at the bound: parsed, and malformed
    const started = performance.now();
    for (let i = 0; i < 1000; i++) await rs256.verify(big).catch(() => {});
    expect(performance.now() - started).toBeLessThan(1000); // 1000 refusals; a parse and an RSA check of 1 MB each would not fit
  });

  it('refuses a token whose kid names a key this server does not have (the configured key has none)', async () => {
    await refused(rs256, await sign(claims(), { header: { kid: 'other-key' } }), 'kid');
    await refused(rs256, await sign(claims(), { header: { kid: '' } }), 'kid');
    // With a key id given to the verifier, the token must name exactly it.
    const withKid = createJwtVerifier({ key: rsa.publicKey, alg: 'RS256', kid: 'k1' });
    expect((await withKid.verify(await sign(claims(), { header: { kid: 'k1' } }))).who.id).toBe('jwt:alice');
    await refused(withKid, await sign(claims(), { header: { kid: 'k2' } }), 'kid');
    await refused(withKid, await sign(claims()), 'kid');
  });

  it('refuses a bad signature, and claims changed under a good one', async () => {
    const token = await sign(claims());
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const middle = Math.floor(signature.length / 2);
    const flipped = `${signature.slice(0, middle)}${signature[middle] === 'A' ? 'B' : 'A'}${signature.slice(middle + 1)}`;
    await refused(rs256, `${header}.${payload}.${flipped}`, 'signature');
    await refused(rs256, `${header}.${b64(claims({ sub: 'mallory', chat: { admin: true } }))}.${signature}`, 'signature');
    await refused(rs256, `${header}.${payload}.`, 'signature');
  });

  it('refuses a token signed with another key of the right type', async () => {
    await refused(rs256, await sign(claims(), { key: otherRsa.privateKey }), 'signature');
    await refused(hs256, await sign(claims(), { alg: 'HS256', key: randomBytes(64) }), 'signature');
    const otherEc = await generateKeyPair('ES256');
    await refused(es256, await sign(claims(), { alg: 'ES256', key: otherEc.privateKey }), 'signature');
  });

  it('does not trust a key the token carries in its header (jwk)', async () => {
    const jwk = await exportJWK(attacker.publicKey);
    await refused(rs256, await sign(claims({ chat: { admin: true } }), { key: attacker.privateKey, header: { jwk } }), 'signature');
  });

  it('refuses a typ other than JWT, and a critical header it does not know', async () => {
    await refused(rs256, await sign(claims(), { header: { typ: 'JWS' } }), 'typ');
    await refused(rs256, await sign(claims(), { header: { typ: 'at+jwt' } }), 'typ');
    expect((await rs256.verify(await signRaw({ alg: 'RS256', typ: 'JWT' }, claims()))).who.id).toBe('jwt:alice'); // signRaw signs as jose would
    await refused(rs256, await signRaw({ alg: 'RS256', typ: 'JWT', crit: ['exp-ext'], 'exp-ext': true }, claims()), 'malformed');
    for (const typ of ['jwt', 'application/jwt', undefined]) expect((await rs256.verify(await sign(claims(), { header: { typ } }))).who.id).toBe('jwt:alice');
  });

  it('refuses malformed chat claims', async () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `room-${i}`);
    const bad: unknown[] = [
      'everything',
      null,
      [],
      ['lobby'],
      { read: 'lobby' },
      { read: ['lobby', 42] },
      { read: ['../etc'] },
      { read: ['a b'] },
      { read: [''] },
      { write: ['x'.repeat(65)] },
      { write: ['team/*'] },
      { admin: 'true' },
      { admin: 1 },
      { writes: ['*'] },
      { read: ['lobby'], role: 'admin' },
      { read: many(MAX_PATTERNS + 1) },
      { read: many(60), write: many(60) },
    ];
    for (const chat of bad) {
      const message = await refused(rs256, await sign(claims({ chat })), 'claims');
      expect(message).toContain('chat');
    }
    expect((await rs256.verify(await sign(claims({ chat: { read: many(50), write: many(50) } })))).who.id).toBe('jwt:alice');
  });

  it('refuses a name over 32 characters after NFKC, with control characters, or not a string', async () => {
    for (const name of ['x'.repeat(33), '\u337f'.repeat(10) /* 10 characters, 40 after NFKC */, 'bell\u0007', 'two\nlines', 'evil\u202egnp.exe', 'del\u007f', 'c1\u0085', '\ud800lone', 42, ['Alice'], null]) {
      await refused(rs256, await sign(claims({ name })), 'claims');
    }
  });
});

describe('good tokens', () => {
  const expected = { id: 'jwt:alice', name: 'Alice', via: 'jwt', admin: false, rules: { lobby: 'read-only', 'team-*': 'read-write' }, session: null };

  it('accepts RS256, ES256, EdDSA and HS256 tokens signed with the configured key', async () => {
    const cases = [
      [rs256, 'RS256', rsa.privateKey],
      [es256, 'ES256', ec.privateKey],
      [eddsa, 'EdDSA', ed.privateKey],
      [hs256, 'HS256', new TextEncoder().encode(secret)],
    ] as const;
    for (const [verifier, alg, key] of cases) {
      const exp = now() + 300;
      const identity = await verifier.verify(await sign(claims({ exp }), { alg, key }));
      expect(identity).toEqual({ who: expected, expires: exp * 1000 } as never);
      expect(may(identity.who, 'write', 'team-a')).toBe(true);
      expect(may(identity.who, 'read', 'lobby')).toBe(true);
      expect(may(identity.who, 'write', 'lobby')).toBe(false);
      expect(may(identity.who, 'read', 'elsewhere')).toBe(false);
      expect(Object.isFrozen(identity.who)).toBe(true);
    }
  });

  it('reads admin, and grants nothing without a chat claim', async () => {
    const admin = await rs256.verify(await sign(claims({ chat: { admin: true } })));
    expect(admin.who).toMatchObject({ admin: true, rules: {} });
    expect(may(admin.who, 'admin', 'lobby')).toBe(true);
    const none = await rs256.verify(await sign(claims({ chat: undefined })));
    expect(none.who).toMatchObject({ admin: false, rules: {} });
    expect(may(none.who, 'read', 'lobby')).toBe(false);
  });

  it('takes the name NFKC-normalized and trimmed, up to 32 characters; without one, the sub', async () => {
    const nameOf = async (extra: Record<string, unknown>) => (await rs256.verify(await sign(claims(extra)))).who.name;
    expect(await nameOf({ name: '  Ａｌｉｃｅ  ' })).toBe('Alice');
    expect(await nameOf({ name: 'x'.repeat(32) })).toBe('x'.repeat(32));
    expect(await nameOf({ name: 'Zoë 🙂' })).toBe('Zoë 🙂');
    expect(await nameOf({ name: undefined })).toBe('alice');
    expect(await nameOf({ name: '   ' })).toBe('alice');
    // A long sub stands in cut to a name's length (never half a character); the id keeps all of it.
    const sub = `-${'🙂'.repeat(20)}`; // 41 UTF-16 units: the 16th emoji would end at 33
    const long = await rs256.verify(await sign(claims({ sub, name: undefined })));
    expect(long.who.id).toBe(`jwt:${sub}`);
    expect(long.who.name).toBe(`-${'🙂'.repeat(15)}`);
  });
});
