/**
 * The key `--jwt-key` names, read and checked at start against `--jwt-alg`: a missing or unreadable file, a PEM that
 * is not a public key of the algorithm's type (a private key, an RSA key for ES256), a short HS256 secret, or a
 * public key given as an HS256 secret stops the server with a message that names the file, rather than every
 * token failing (or, worse, passing) later. The verifier itself is lib/jwt.ts.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { importSPKI } from 'jose';
import { ConfigError, type Config, type JwtAlg } from './config.ts';
import type { JwtVerifierOptions } from './jwt.ts';

/** An HS256 secret shorter than this is refused: RFC 7518 §3.2 wants a key at least as long as the hash. */
export const MIN_HMAC_SECRET_BYTES = 32;
/** RSA keys shorter than this are refused (RFC 7518 §3.3; jose refuses them too, but only when a token comes). */
export const MIN_RSA_BITS = 2048;
/** A key file is small: a PEM public key is under 1 KiB, a secret a few dozen bytes. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

const WHERE = '--jwt-key (CHAT_JWT_KEY)';
const NEEDS: Record<Exclude<JwtAlg, 'HS256'>, string> = {
  RS256: `an RSA public key of ${MIN_RSA_BITS} bits or more`,
  ES256: 'an EC public key on the P-256 curve',
  EdDSA: 'an Ed25519 public key',
};
const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521', secp256k1: 'secp256k1' };

/** What a key is, for a message: `RSA (1024-bit)`, `EC P-384`, `Ed25519`. */
function describe(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return `an RSA (${details.modulusLength ?? '?'}-bit)`;
    case 'rsa-pss':
      return 'an RSA-PSS';
    case 'ec':
      return `an EC ${CURVES[details.namedCurve ?? ''] ?? details.namedCurve ?? ''}`.trimEnd();
    case 'ed25519':
      return 'an Ed25519';
    default:
      return `a ${key.asymmetricKeyType ?? 'different'}`;
  }
}

function fits(alg: Exclude<JwtAlg, 'HS256'>, key: KeyObject): boolean {
  const details = key.asymmetricKeyDetails ?? {};
  if (alg === 'RS256') return key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= MIN_RSA_BITS;
  if (alg === 'ES256') return key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1';
  return key.asymmetricKeyType === 'ed25519';
}

function readKeyFile(path: string): Buffer {
  try {
    const size = statSync(path).size;
    if (size > MAX_KEY_FILE_BYTES) throw new ConfigError(`${WHERE} "${path}": ${size} bytes is too large for a key file; give the file of the public key or secret`);
    return readFileSync(path);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`${WHERE} "${path}": cannot read it (${code ?? String(error)}); give the path of a key file this user can read`);
  }
}

/** The labels of the PEM blocks in a file: `PUBLIC KEY`, `PRIVATE KEY`, `CERTIFICATE`, ... */
const pemLabels = (text: string) => [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1]!);

/** HS256: the file's bytes (one trailing newline dropped) as the secret, refused when short or when it is a key. */
function hmacSecret(path: string, bytes: Buffer): KeyObject {
  const text = bytes.toString('latin1');
  const labels = pemLabels(text);
  const jwk = /^\s*\{[\s\S]*"kty"/.test(text);
  if (labels.length || jwk) {
    // The classic key confusion (RFC 8725 §2.1, §3.1): a public key used as an HMAC secret lets anyone who has the
    // public key sign tokens.
    const what = labels.length ? `a PEM ${labels[0]}` : 'a JSON Web Key';
    throw new ConfigError(
      `${WHERE} "${path}": holds ${what}, but --jwt-alg HS256 takes a shared secret: a key used as an HMAC secret lets anyone who has it sign tokens; set --jwt-alg to the key's own algorithm (RS256, ES256, EdDSA), or give a file holding a random secret`,
    );
  }
  const secret = bytes.subarray(0, bytes.length - (text.endsWith('\r\n') ? 2 : text.endsWith('\n') ? 1 : 0));
  if (secret.length < MIN_HMAC_SECRET_BYTES) {
    throw new ConfigError(`${WHERE} "${path}": the secret is ${secret.length} bytes; HS256 needs at least ${MIN_HMAC_SECRET_BYTES} (make one with: openssl rand -base64 48 > FILE)`);
  }
  return createSecretKey(secret);
}

/** RS256, ES256, EdDSA: one PEM public key (SPKI) of the algorithm's type, imported with jose. */
async function publicKey(path: string, alg: Exclude<JwtAlg, 'HS256'>, bytes: Buffer): Promise<CryptoKey> {
  const where = `${WHERE} "${path}"`;
  const text = bytes.toString('utf8');
  const labels = pemLabels(text);
  if (labels.some((label) => label.includes('PRIVATE KEY'))) {
    throw new ConfigError(`${where}: holds a private key; give the public key only (openssl pkey -in KEY -pubout -out public.pem): the private key is the issuer's and belongs on no other server`);
  }
  if (labels.includes('CERTIFICATE')) throw new ConfigError(`${where}: holds a certificate; give its public key (openssl x509 -in CERT -pubkey -noout > public.pem)`);
  const pem = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/.exec(text)?.[0];
  if (!pem || labels.length !== 1) {
    throw new ConfigError(`${where}: not a PEM public key; --jwt-alg ${alg} needs ${NEEDS[alg]}, in one -----BEGIN PUBLIC KEY----- block`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ConfigError(`${where}: the -----BEGIN PUBLIC KEY----- block is not a valid public key`);
  }
  if (!fits(alg, key)) throw new ConfigError(`${where}: is ${describe(key)} key, but --jwt-alg ${alg} needs ${NEEDS[alg]}`);
  try {
    return await importSPKI(pem, alg);
  } catch (error) {
    throw new ConfigError(`${where}: jose cannot use it for ${alg} (${error instanceof Error ? error.message : String(error)})`);
  }
}

type JwtSettings = Pick<Config, 'auth' | 'jwt-key' | 'jwt-alg' | 'jwt-audience' | 'jwt-issuer'>;

/**
 * What `createJwtVerifier` takes, from the config: null unless `--auth jwt`. Throws ConfigError naming the option and
 * the file: a jwt option outside jwt mode, no --jwt-alg or --jwt-key in it, or a key file that does not fit.
 */
export async function readJwtKey(config: JwtSettings): Promise<JwtVerifierOptions | null> {
  const alg = config['jwt-alg'];
  const path = config['jwt-key'];
  if (config.auth !== 'jwt') {
    const set = (['jwt-key', 'jwt-alg', 'jwt-audience', 'jwt-issuer'] as const).filter((name) => config[name]);
    if (set.length) throw new ConfigError(`--${set.join(', --')} ${set.length > 1 ? 'are' : 'is'} for --auth jwt, not --auth ${config.auth || 'open'}; set --auth jwt or leave ${set.length > 1 ? 'them' : 'it'} out`);
    return null;
  }
  if (!alg) throw new ConfigError('--auth jwt needs --jwt-alg (CHAT_JWT_ALG): the one algorithm the issuer signs with, RS256, ES256, EdDSA or HS256');
  if (!path) throw new ConfigError(`--auth jwt needs --jwt-key (CHAT_JWT_KEY): the file of the issuer's ${alg === 'HS256' ? 'shared secret' : 'public key (PEM)'}`);
  const bytes = readKeyFile(path);
  const key = alg === 'HS256' ? hmacSecret(path, bytes) : await publicKey(path, alg, bytes);
  return { key, alg, audience: config['jwt-audience'] || undefined, issuer: config['jwt-issuer'] || undefined };
}
