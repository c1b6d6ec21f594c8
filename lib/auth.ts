import { createHash, timingSafeEqual } from 'node:crypto';
import { argon2id } from 'hash-wasm';
import { ARGON2ID } from './passwords.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares in constant time: both sides are hashed to the same length first, so length leaks nothing either. */
export function createTokenCheck(token: string) {
  const expected = digest(token);
  return (candidate: string | undefined | null) => candidate != null && timingSafeEqual(digest(candidate), expected);
}

const subjects = new Map<string, Promise<string>>();

/**
 * The session subject of the shared token: `token:` and an argon2id digest of it (OWASP's parameters, a fixed
 * salt: the same on every instance with that token). A session signed in with one token is not one of another's,
 * so changing the token signs every browser out, on every instance, while instances that share a token share its
 * sessions. The store keeps only the digest, as slow to guess from as a password hash.
 */
export function sharedTokenSubject(token: string): Promise<string> {
  let subject = subjects.get(token);
  if (!subject) {
    subject = argon2id({ password: token, salt: 'threadchat shared token', ...ARGON2ID, hashLength: 16, outputType: 'hex' }).then((tag) => `token:${tag}`);
    subjects.set(token, subject);
  }
  return subject;
}
