/**
 * `--auth jwt`: another application issues the identities (as with Mercure and Centrifugo) and signs them as JWTs;
 * this checks one and turns it into a `Who`. Every check of the token itself is jose's (`jwtVerify`, with the one
 * configured algorithm); this adds what jose leaves to its caller: a size bound before any parsing, the `kid` and
 * `typ` headers, and the claims this server reads (`sub`, `name`, `chat`), checked with zod. The key comes from
 * lib/jwt-key.ts, read and checked at start. Failures are a `JwtError` whose message is safe to show a client.
 */
import { errors, jwtVerify, type JWTHeaderParameters } from 'jose';
import { z } from 'zod';
import type { JwtAlg } from './config.ts';
import { LIMITS } from './input.ts';
import { ROOM_PATTERN, rulesFromGrants, type Who } from './identity.ts';

/** Longer tokens are refused before anything is decoded (a header's worth of claims fits many times over). */
export const MAX_TOKEN_LENGTH = 8 * 1024;
/** Seconds of clock difference allowed between the issuer and this server, on `exp` and `nbf`. */
export const CLOCK_TOLERANCE_S = 30;
/** Room patterns a token's `chat` claim may list, `read` and `write` together. */
export const MAX_PATTERNS = 100;
/** Characters of `sub` (it becomes the identity's id, which limits, presence and logs key on). */
export const MAX_SUB_LENGTH = 256;

/** The key a verifier checks signatures with: a public key (RS256, ES256, EdDSA) or a shared secret (HS256). */
export type JwtVerifyKey = CryptoKey | import('node:crypto').KeyObject;

export interface JwtVerifierOptions {
  key: JwtVerifyKey;
  /** The one algorithm accepted; a token whose header names another is refused. */
  alg: JwtAlg;
  /** When set, the token's `aud` (a string or a list) must hold it. */
  audience?: string;
  /** When set, the token's `iss` must be it. */
  issuer?: string;
  /** The key's id. Unset (a key file has none): a token that names a key with `kid` is refused. */
  kid?: string;
}

export interface JwtIdentity {
  who: Who;
  /** When the token stops being valid (its `exp`), in milliseconds since the epoch. */
  expires: number;
}

/** Why a token was refused. */
export type JwtProblem =
  | 'too-long'
  | 'malformed'
  | 'algorithm'
  | 'kid'
  | 'typ'
  | 'signature'
  | 'expired'
  | 'not-yet-valid'
  | 'audience'
  | 'issuer'
  | 'missing-claim'
  | 'claims';

/** A refused token. `message` is a short reason safe to show the client: never key material, never the token. */
export class JwtError extends Error {
  override name = 'JwtError';
  constructor(
    readonly problem: JwtProblem,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

// C0 and C1 controls (DEL too), line and paragraph separators, and the bidi overrides and isolates that can
// disguise text: a name or sub with one is refused, not cleaned (the issuer is to send a clean one).
const CONTROLS = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
const clean = (s: string) => s.isWellFormed() && !CONTROLS.test(s);

const sub = z
  .string({ error: '"sub" claim must be a string' })
  .min(1, '"sub" claim is empty')
  .max(MAX_SUB_LENGTH, `"sub" claim is longer than ${MAX_SUB_LENGTH} characters`)
  .refine(clean, '"sub" claim has control characters')
  .refine((s) => s.trim() !== '', '"sub" claim is blank');

/** The first `max` UTF-16 units of `s`, never half a character. */
const cut = (s: string, max: number) => {
  let out = '';
  for (const char of s) {
    if (out.length + char.length > max) break;
    out += char;
  }
  return out;
};

/** The display name: NFKC, trimmed, at most LIMITS.name characters (as every name here); empty: none. */
const name = z
  .string({ error: '"name" claim must be a string' })
  .transform((s) => s.normalize('NFKC'))
  .refine(clean, '"name" claim has control characters')
  .transform((s) => s.trim())
  .refine((s) => s.length <= LIMITS.name, `"name" claim is longer than ${LIMITS.name} characters`);

const notPattern = (which: string) => `"chat.${which}" holds a room pattern that is not 1-64 letters, digits, _, - and *`;
const patterns = (which: 'read' | 'write') =>
  z
    .array(z.string({ error: notPattern(which) }).regex(ROOM_PATTERN, notPattern(which)), {
      error: `"chat.${which}" must be a list of room patterns`,
    })
    .max(MAX_PATTERNS, `"chat" claim lists more than ${MAX_PATTERNS} room patterns`);

/** `chat`: what this identity may do. Unknown keys are refused (a misspelt `write` would silently grant less). */
const chat = z
  .strictObject(
    { read: patterns('read').optional(), write: patterns('write').optional(), admin: z.boolean({ error: '"chat.admin" must be true or false' }).optional() },
    { error: '"chat" claim must be an object with read, write and admin only' },
  )
  .refine((c) => (c.read?.length ?? 0) + (c.write?.length ?? 0) <= MAX_PATTERNS, `"chat" claim lists more than ${MAX_PATTERNS} room patterns`);

const claims = z.object({
  sub,
  name: name.optional(),
  // jose has checked it is a number in the future; this bounds it to a date JavaScript can hold.
  exp: z.number().refine((n) => Number.isFinite(n * 1000) && n * 1000 <= 8.64e15, '"exp" claim is out of range'),
  chat: chat.optional(),
});

/** A `typ` header, when present, says JWT (RFC 7519 §5.1; compared as a media type, case-insensitively). */
const isJwtTyp = (typ: unknown) => typeof typ === 'string' && /^(application\/)?jwt$/i.test(typ);

/** The short reason for a refusal jose reported. Its messages name claims and headers, never keys. */
function refusal(error: unknown): JwtError {
  if (error instanceof JwtError) return error;
  if (error instanceof errors.JWTExpired) return new JwtError('expired', 'token has expired', { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return new JwtError('missing-claim', `token has no "${error.claim}" claim`, { cause: error });
    if (error.claim === 'nbf') return new JwtError('not-yet-valid', 'token is not valid yet (nbf)', { cause: error });
    if (error.claim === 'aud') return new JwtError('audience', 'token is for another audience (aud)', { cause: error });
    if (error.claim === 'iss') return new JwtError('issuer', 'token is from another issuer (iss)', { cause: error });
    return new JwtError('claims', `"${error.claim}" claim is invalid`, { cause: error });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new JwtError('signature', 'token signature does not verify', { cause: error });
  if (error instanceof errors.JOSEAlgNotAllowed) return new JwtError('algorithm', 'token is signed with an algorithm this server does not accept', { cause: error });
  return new JwtError('malformed', 'token is not a well-formed signed JWT', { cause: error });
}

/** What a JWT becomes, in jwt mode: the door (middleware/identify.ts) and `POST /login` ask it. */
export interface JwtCheck {
  verify(token: string): Promise<JwtIdentity>;
}

/** A verifier for one key and algorithm. Throws TypeError when the key is not of the algorithm's kind. */
export function createJwtVerifier(options: JwtVerifierOptions): JwtCheck {
  const { key, alg, audience, issuer, kid } = options;
  // Key confusion is refused here too, not only by the key file's reader: HS256 takes a secret, the others a public key.
  const wanted = alg === 'HS256' ? 'secret' : 'public';
  if (key.type !== wanted) throw new TypeError(`a ${alg} verifier needs a ${wanted} key, not a ${key.type} one`);
  const headerKey = (header: JWTHeaderParameters) => {
    // jose has parsed the header and checked `alg` and `crit`; the signature is checked after this returns.
    if (header.kid !== kid) {
      throw new JwtError('kid', header.kid === undefined ? 'token does not name its key (kid)' : 'token names a key (kid) this server does not have');
    }
    if (header.typ !== undefined && !isJwtTyp(header.typ)) throw new JwtError('typ', 'token is not a JWT (typ)');
    return key;
  };
  return {
    async verify(token: string): Promise<JwtIdentity> {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new JwtError('too-long', `token is longer than ${MAX_TOKEN_LENGTH} characters`);
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, headerKey, {
          algorithms: [alg],
          audience: audience || undefined,
          issuer: issuer || undefined,
          clockTolerance: CLOCK_TOLERANCE_S,
          requiredClaims: ['sub', 'exp'],
        }));
      } catch (error) {
        throw refusal(error);
      }
      const parsed = claims.safeParse(payload);
      if (!parsed.success) throw new JwtError('claims', parsed.error.issues[0]?.message ?? 'token claims are invalid');
      const { sub, name, exp, chat } = parsed.data;
      const who: Who = {
        id: `jwt:${sub}`,
        // No name (or a blank one): the sub stands in, cut to a name's length; the id keeps it whole.
        name: name || cut(sub.normalize('NFKC').trim(), LIMITS.name).trim(),
        via: 'jwt',
        admin: chat?.admin ?? false,
        rules: Object.freeze(rulesFromGrants(chat ?? {})),
        session: null,
      };
      return { who: Object.freeze(who), expires: exp * 1000 };
    },
  };
}
