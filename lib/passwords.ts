/**
 * Passwords, stored as argon2id hashes with OWASP's parameters (Password Storage Cheat Sheet: m=19 MiB, t=2, p=1),
 * through hash-wasm, which runs the same on Bun and Node. Never a hand-rolled hash.
 */
import { argon2id, argon2Verify } from 'hash-wasm';
import { randomBytes } from 'node:crypto';

export const ARGON2ID = { memorySize: 19_456, iterations: 2, parallelism: 1, hashLength: 32 } as const;

/** ASVS 2.1.1 and 2.1.2: at least 12 characters, and up to 128 allowed. */
export const PASSWORD_LENGTH = { min: 12, max: 128 } as const;

/** What is wrong with a new password, or null. Any character is allowed (ASVS 2.1.9: no composition rules). */
export function passwordProblem(password: string): string | null {
  const length = [...password].length;
  if (length < PASSWORD_LENGTH.min) return `a password needs at least ${PASSWORD_LENGTH.min} characters`;
  if (length > PASSWORD_LENGTH.max) return `a password has at most ${PASSWORD_LENGTH.max} characters`;
  return null;
}

/**
 * Hashes run one at a time per slot: each takes 19 MiB and ~60 ms of a core, so a burst of sign-ins is queued
 * rather than run all at once (bounded: past QUEUE_MAX waiting, a check is refused as busy).
 */
const SLOTS = 2;
const QUEUE_MAX = 64;
let running = 0;
const waiting: (() => void)[] = [];

/** Thrown when too many password checks are already waiting: the caller answers 503. */
export class PasswordCheckBusyError extends Error {
  override name = 'PasswordCheckBusyError';
}

async function inSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= SLOTS) {
    if (waiting.length >= QUEUE_MAX) throw new PasswordCheckBusyError('too many sign-ins at once');
    await new Promise<void>((resolve) => waiting.push(resolve));
  }
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export function hashPassword(password: string): Promise<string> {
  return inSlot(() => argon2id({ password, salt: randomBytes(16), ...ARGON2ID, outputType: 'encoded' }));
}

/** A fixed hash to check against when the account does not exist, so an unknown name takes as long as a known one. */
const DECOY = '$argon2id$v=19$m=19456,t=2,p=1$EMXVEnVjiZVqLBhUTtKtCA$tEOA9XkAJbYXoTUW1kzS4FbSZJ+yPkNgbBptz96c1uY';

/** Whether `password` matches `hash` (null: no such account, checked against a decoy all the same). */
export async function verifyPassword(password: string, hash: string | null): Promise<boolean> {
  const ok = await inSlot(() => argon2Verify({ password, hash: hash ?? DECOY }).catch(() => false));
  return ok && hash !== null;
}
