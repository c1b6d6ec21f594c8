/**
 * The `--jwt-key` file read and checked at start (lib/jwt-key.ts): each bad file stops the start with a ConfigError
 * that names the option and the file and says what to give instead, and never quotes the key or secret.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { exportJWK, exportSPKI, generateKeyPair } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type AuthMode, type JwtAlg } from '../../lib/config.ts';
import { MIN_HMAC_SECRET_BYTES, readJwtKey } from '../../lib/jwt-key.ts';
import { tempDir } from '../helpers.ts';

const dir = tempDir('threadchat-jwt-key-');
afterAll(() => dir.remove());

let files = 0;
const file = (text: string | Uint8Array) => {
  const path = join(dir.path, `key-${++files}.pem`);
  writeFileSync(path, text);
  return path;
};
const settings = (alg: JwtAlg | '', path: string, auth: AuthMode = 'jwt') => ({ auth, 'jwt-key': path, 'jwt-alg': alg, 'jwt-audience': '', 'jwt-issuer': '' });

/** The ConfigError's message for these settings; fails the test if they are accepted. */
async function refused(alg: JwtAlg | '', path: string, auth: AuthMode = 'jwt'): Promise<string> {
  try {
    await readJwtKey(settings(alg, path, auth));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`accepted --jwt-alg ${alg} --jwt-key ${path}`);
}
/** The base64 body of a PEM: what a message must never quote. */
const body = (pem: string) => pem.split('\n').filter((line) => line && !line.startsWith('-----')).join('');

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const rsaPkcs1 = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'pkcs1', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } });
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'sec1', format: 'pem' } });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const ed = generateKeyPairSync('ed25519', { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });

describe('readJwtKey', () => {
  it('reads a public key of each algorithm, and an HS256 secret without its trailing newline', async () => {
    for (const [alg, pem] of [['RS256', rsa.publicKey], ['ES256', ec.publicKey], ['EdDSA', ed.publicKey]] as const) {
      const read = await readJwtKey(settings(alg, file(pem)));
      expect(read).toMatchObject({ alg, audience: undefined, issuer: undefined });
      expect(read!.key.type).toBe('public');
    }
    const hs = await readJwtKey({ ...settings('HS256', file(`${'s'.repeat(MIN_HMAC_SECRET_BYTES)}\r\n`)), 'jwt-audience': 'chat', 'jwt-issuer': 'https://id.example' });
    expect(hs).toMatchObject({ alg: 'HS256', audience: 'chat', issuer: 'https://id.example' });
    expect(hs!.key.type).toBe('secret');
    expect((hs!.key as import('node:crypto').KeyObject).symmetricKeySize).toBe(MIN_HMAC_SECRET_BYTES);
    // A public key from jose's own export reads as well.
    const pair = await generateKeyPair('ES256', { extractable: true });
    expect(await readJwtKey(settings('ES256', file(await exportSPKI(pair.publicKey))))).not.toBeNull();
  });

  it('is null outside jwt mode, and refuses the jwt options there', async () => {
    expect(await readJwtKey(settings('', '', 'open'))).toBeNull();
    expect(await refused('RS256', '', 'open')).toBe('--jwt-alg is for --auth jwt, not --auth open; set --auth jwt or leave it out');
    expect(await refused('RS256', file(rsa.publicKey), 'accounts')).toBe('--jwt-key, --jwt-alg are for --auth jwt, not --auth accounts; set --auth jwt or leave them out');
  });

  it('needs --jwt-alg and --jwt-key in jwt mode', async () => {
    expect(await refused('', file(rsa.publicKey))).toContain('--auth jwt needs --jwt-alg (CHAT_JWT_ALG)');
    expect(await refused('RS256', '')).toContain('--auth jwt needs --jwt-key (CHAT_JWT_KEY)');
  });

  it('refuses a missing file, a directory, or one far too large to be a key, naming it', async () => {
    const missing = join(dir.path, 'missing.pem');
    expect(await refused('RS256', missing)).toBe(`--jwt-key (CHAT_JWT_KEY) "${missing}": cannot read it (ENOENT); give the path of a key file this user can read`);
    const folder = join(dir.path, 'a-folder');
    mkdirSync(folder);
    expect(await refused('ES256', folder)).toStartWith(`--jwt-key (CHAT_JWT_KEY) "${folder}": cannot read it (EISDIR)`);
    const huge = file('x'.repeat(1024 * 1024));
    expect(await refused('HS256', huge)).toContain(`"${huge}": 1048576 bytes is too large for a key file`);
  });

  it('refuses a private key, naming the file and never quoting it', async () => {
    for (const [alg, pem] of [['RS256', rsa.privateKey], ['RS256', rsaPkcs1.privateKey], ['ES256', ec.privateKey], ['EdDSA', ed.privateKey], ['RS256', `${rsa.publicKey}${rsa.privateKey}`]] as const) {
      const path = file(pem);
      const message = await refused(alg, path);
      expect(message).toStartWith(`--jwt-key (CHAT_JWT_KEY) "${path}": holds a private key; give the public key only`);
      expect(message).not.toContain(body(pem).slice(0, 40));
    }
  });

  it("refuses a public key of another type than the algorithm's", async () => {
    const cases = [
      ['ES256', rsa.publicKey, 'is an RSA (2048-bit) key, but --jwt-alg ES256 needs an EC public key on the P-256 curve'],
      ['ES256', p384.publicKey, 'is an EC P-384 key, but --jwt-alg ES256 needs an EC public key on the P-256 curve'],
      ['ES256', ed.publicKey, 'is an Ed25519 key, but --jwt-alg ES256 needs'],
      ['RS256', ec.publicKey, 'is an EC P-256 key, but --jwt-alg RS256 needs an RSA public key of 2048 bits or more'],
      ['RS256', rsa1024.publicKey, 'is an RSA (1024-bit) key, but --jwt-alg RS256 needs an RSA public key of 2048 bits or more'],
      ['EdDSA', rsa.publicKey, 'is an RSA (2048-bit) key, but --jwt-alg EdDSA needs an Ed25519 public key'],
    ] as const;
    for (const [alg, pem, says] of cases) {
      const path = file(pem);
      expect(await refused(alg, path)).toStartWith(`--jwt-key (CHAT_JWT_KEY) "${path}": ${says}`);
    }
  });

  it('refuses what is not one PEM public key: text, a PKCS#1 RSA key, a certificate, a damaged block', async () => {
    for (const text of ['not a key at all\n', rsaPkcs1.publicKey, `${rsa.publicKey}${ec.publicKey}`, '']) {
      const path = file(text);
      expect(await refused('RS256', path)).toStartWith(`--jwt-key (CHAT_JWT_KEY) "${path}": not a PEM public key; --jwt-alg RS256 needs an RSA public key`);
    }
    const cert = file('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(await refused('RS256', cert)).toContain(`"${cert}": holds a certificate; give its public key`);
    const damaged = file(rsa.publicKey.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!'));
    expect(await refused('RS256', damaged)).toBe(`--jwt-key (CHAT_JWT_KEY) "${damaged}": the -----BEGIN PUBLIC KEY----- block is not a valid public key`);
  });

  it('refuses an HS256 secret shorter than 32 bytes (after its trailing newline), never quoting it', async () => {
    const short = 'a-31-byte-secret-00000000000000';
    expect(short.length).toBe(31);
    const path = file(`${short}\n`);
    const message = await refused('HS256', path);
    expect(message).toBe(`--jwt-key (CHAT_JWT_KEY) "${path}": the secret is 31 bytes; HS256 needs at least 32 (make one with: openssl rand -base64 48 > FILE)`);
    expect(message).not.toContain(short);
    expect(await refused('HS256', file(''))).toContain('the secret is 0 bytes');
  });

  it('refuses a public key given as an HS256 secret (key confusion), as PEM or as a JWK', async () => {
    for (const pem of [rsa.publicKey, ec.publicKey, ed.publicKey, rsa.privateKey]) {
      const path = file(pem);
      const message = await refused('HS256', path);
      expect(message).toStartWith(`--jwt-key (CHAT_JWT_KEY) "${path}": holds a PEM `);
      expect(message).toContain('but --jwt-alg HS256 takes a shared secret');
      expect(message).not.toContain(body(pem).slice(0, 40));
    }
    const pair = await generateKeyPair('RS256', { extractable: true });
    const jwk = file(JSON.stringify(await exportJWK(pair.publicKey), null, 2));
    expect(await refused('HS256', jwk)).toContain(`"${jwk}": holds a JSON Web Key, but --jwt-alg HS256 takes a shared secret`);
  });
});
