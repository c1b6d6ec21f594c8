/** Secrets the server hands out (session ids, access tokens, stream keys) and how they are looked up. */
import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits, base64url; `prefix` marks what it is (`tc_` for access tokens) so a leaked one is recognised. */
export const newSecret = (prefix = '') => prefix + randomBytes(32).toString('base64url');

/**
 * What a store keeps instead of the secret: its SHA-256. A secret of 256 random bits needs no slow hash; a store
 * that leaks gives no usable session or token.
 */
export const digestOf = (secret: string) => createHash('sha256').update(secret).digest('base64url');
