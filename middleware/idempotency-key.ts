/**
 * The `Idempotency-Key` request header (IETF httpapi draft "The Idempotency-Key HTTP Header Field"): a client
 * sends one unique key with a POST and the same key with each retry of it, so a retry after a lost answer (a
 * timeout, a 503 whose write reached the store) returns the message first stored instead of storing it again.
 */
import { createHash } from 'node:crypto';
import { fail } from '../lib/errors.ts';
import type { IdempotencyKey } from '../store/types.ts';

/** Visible ASCII but the quote and backslash, up to 255 characters: a UUID, a ULID, any random token. */
const KEY = /^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/;

/**
 * The key as sent, or null when there is none; a 400 when it is malformed. The draft's form is a structured-field
 * string (`"8e03978e-40d5-43e8-bc93-6894a57f9324"`); the bare token is taken too, as most clients send it.
 */
export function readIdempotencyKey(value: string | undefined): string | null {
  if (value === undefined) return null;
  const bare = /^"(.*)"$/.exec(value.trim())?.[1] ?? value.trim();
  if (!KEY.test(bare)) fail(400, 'Idempotency-Key must be 1 to 255 visible ASCII characters (no quote or backslash), e.g. a UUID');
  return bare;
}

/**
 * The key as the store keeps it. `scope` is who sent it (keys of different senders never meet); the fingerprint
 * is a digest of what the key was sent with, so the same key with another message is told apart (422).
 */
export function idempotencyKey(key: string, scope: string, message: { room: string; name: string; text: string }): IdempotencyKey {
  const fingerprint = createHash('sha256').update(JSON.stringify([message.room, message.name, message.text])).digest('base64url');
  return { scope, key, fingerprint };
}
