/**
 * Direct messages: a room only two signed-in people can read, named after the two of them. Each person has a
 * person key, the first 80 bits of a digest of their identity (`user:NAME`, `jwt:SUB`), and the room of a pair is
 * `dm-KEY-KEY`, the two keys in order: the same room whoever opens it, and the rights check needs nothing but the
 * room's name (lib/identity.ts `may`). Nobody else reads or writes it, whatever their rules say, admins included.
 */
import { createHash } from 'node:crypto';

/** The room name of a pair: `dm-` and two person keys, lower-case hex, the smaller first. */
const DIRECT_ROOM = /^dm-([0-9a-f]{20})-([0-9a-f]{20})$/;
const PERSON_KEY = /^[0-9a-f]{20}$/;

/** Whether an identity can take part in direct messages: a person of their own (an account, a JWT subject). */
export const hasPersonKey = (id: string) => id.startsWith('user:') || id.startsWith('jwt:');

/** The person key of an identity with one (hasPersonKey), or null: what links and rooms carry, never the id. */
export function personKey(id: string): string | null {
  if (!hasPersonKey(id)) return null;
  let key = keys.get(id);
  if (key === undefined) {
    key = createHash('sha256').update(`threadchat person\0${id}`).digest('hex').slice(0, 20);
    if (keys.size >= 10_000) keys.clear(); // every message rendered asks, in each format: a digest once per person
    keys.set(id, key);
  }
  return key;
}
const keys = new Map<string, string>();

/** A message's sender's person key (from its kept author), as `{person}`, when they were signed in as a person. */
export function personOf(m: { author?: string }): { person?: string } {
  const key = m.author === undefined ? null : personKey(m.author);
  return key === null ? {} : { person: key };
}

export const isPersonKey = (key: string) => PERSON_KEY.test(key);

/** The direct room of two person keys (the same for either order; a person with themselves: their notes). */
export const directRoom = (a: string, b: string) => (a <= b ? `dm-${a}-${b}` : `dm-${b}-${a}`);

/** The two person keys of a direct room, or null when `room` is not one. */
export function directPair(room: string): [string, string] | null {
  const match = DIRECT_ROOM.exec(room);
  return match && match[1]! <= match[2]! ? [match[1]!, match[2]!] : null;
}

/** Whether `room` is a direct room by its name's form (keys out of order included: nobody may use those). */
export const looksDirect = (room: string) => room.startsWith('dm-') && DIRECT_ROOM.test(room);

/** Whether identity `id` is one of the two people of direct room `room`. */
export function inDirectRoom(id: string, room: string): boolean {
  const pair = directPair(room);
  const key = personKey(id);
  return pair !== null && key !== null && (pair[0] === key || pair[1] === key);
}

/** The other person's key in a direct room, seen by `id` (their own key for their notes), or null. */
export function otherInDirectRoom(id: string, room: string): string | null {
  const pair = directPair(room);
  const key = personKey(id);
  if (!pair || !key) return null;
  return pair[0] === key ? pair[1] : pair[1] === key ? pair[0] : null;
}
