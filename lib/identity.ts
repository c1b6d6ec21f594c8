/**
 * Who a request is, decided once at the door (middleware/identify.ts), and what it may do in a room. Every route,
 * the hub and presence read this, never a name or id the client chose.
 */

import { inDirectRoom, looksDirect } from './direct.ts';

/** What a person may do in the rooms a pattern matches. */
export type AccessLevel = 'read-write' | 'read-only' | 'deny';
export const ACCESS_LEVELS: readonly AccessLevel[] = ['read-write', 'read-only', 'deny'];

export type Right = 'read' | 'write' | 'admin';

/** Room patterns and what they allow: `*` matches any run of characters (`team-*`, `*`). */
export type AccessRules = Readonly<Record<string, AccessLevel>>;

/** How the request proved who it is. */
export type Via = 'anonymous' | 'token' | 'session' | 'password' | 'access-token' | 'jwt';

export interface Who {
  /**
   * Stable and unique per person: `user:NAME` (accounts), `jwt:SUB` (jwt), `token` (the shared secret), or
   * `anon:ADDRESS` (anonymous; an IPv6 address by its /64). Limits, quotas and presence key on it.
   */
  id: string;
  /** The verified display name, or null when anonymous (the name is then the client's to choose). */
  name: string | null;
  via: Via;
  admin: boolean;
  /** The rooms this identity may read and write, as patterns (most specific pattern wins). */
  rules: AccessRules;
  /** The session this request came with, if any (its id's digest, never the id): revoking it ends its streams. */
  session: string | null;
  /** When the credential ends (a session's absolute end, a JWT's or an access token's expiry), ms since the epoch. */
  until?: number | null;
}

/** How specific a pattern is: an exact name beats any pattern, then more literal characters win. */
const specificity = (pattern: string) => (pattern.includes('*') ? 0 : 1_000) + pattern.replaceAll('*', '').length;

const compiled = new Map<string, RegExp>();
/** Whether `pattern` (with `*` wildcards) matches the whole of `room`. */
export function matches(pattern: string, room: string): boolean {
  let regex = compiled.get(pattern);
  if (!regex) {
    regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'u');
    if (compiled.size > 10_000) compiled.clear(); // patterns come from the operator, but bound it all the same
    compiled.set(pattern, regex);
  }
  return regex.test(room);
}

/** The level the most specific matching rule gives in `room`, or null when none matches. */
export function levelIn(rules: AccessRules, room: string): AccessLevel | null {
  let best: { level: AccessLevel; rank: number } | null = null;
  for (const [pattern, level] of Object.entries(rules)) {
    if (!matches(pattern, room)) continue;
    const rank = specificity(pattern);
    // At equal specificity the stricter rule wins: a deny is never undone by a rule just as specific.
    if (!best || rank > best.rank || (rank === best.rank && ACCESS_LEVELS.indexOf(level) > ACCESS_LEVELS.indexOf(best.level))) best = { level, rank };
  }
  return best?.level ?? null;
}

/**
 * The one rights check, used everywhere a room is touched. A direct room (lib/direct.ts) is its two people's
 * alone, admins included, whatever the rules but those written for direct rooms (`dm-*`: an operator may make a
 * person's direct rooms read-only or deny them). Elsewhere admins may do anything, and `admin` needs an admin.
 */
export function may(who: Who, right: Right, room: string): boolean {
  if (looksDirect(room)) {
    if (right === 'admin' || !inDirectRoom(who.id, room)) return false;
    const direct = Object.fromEntries(Object.entries(who.rules).filter(([pattern]) => pattern.startsWith('dm-')));
    return allows(levelIn(direct, room) ?? 'read-write', right);
  }
  if (who.admin) return true;
  if (right === 'admin') return false;
  return allows(levelIn(who.rules, room), right);
}

const allows = (level: AccessLevel | null, right: 'read' | 'write') =>
  right === 'read' ? level === 'read-write' || level === 'read-only' : level === 'read-write';

/** A room pattern as `user access` and JWT claims take it: 1-64 of the room characters and `*`. */
export const ROOM_PATTERN = /^[\p{L}\p{M}\p{N}_*-]{1,64}$/u;

/** Rules that allow everything at `level` (open mode: read-write; a `--default-access` for the anonymous). */
export const everywhere = (level: AccessLevel): AccessRules => ({ '*': level });

/** Rules from a JWT's `chat` claim: `read` and `write` pattern lists (write implies read). */
export function rulesFromGrants(grants: { read?: readonly string[]; write?: readonly string[] }): AccessRules {
  const rules: Record<string, AccessLevel> = {};
  for (const pattern of grants.read ?? []) rules[pattern] = 'read-only';
  for (const pattern of grants.write ?? []) rules[pattern] = 'read-write';
  return rules;
}

/**
 * An account's name (`bun run user add`): 1-32 of lower-case ASCII letters, digits, `_`, `.` and `-`, starting
 * with a letter or a digit. Nothing two people could tell apart only by looking closely.
 */
export const ACCOUNT_NAME = /^[a-z0-9][a-z0-9_.-]{0,31}$/;
