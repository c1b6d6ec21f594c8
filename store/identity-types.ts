/**
 * Optional store ability: accounts, access tokens, sessions and read positions, kept where the messages are, so every instance on
 * the same store shares them and `bun run user` edits them while servers run. Secrets are never kept: a token or a
 * session id is looked up by its SHA-256 digest (both are 256 random bits, so a fast digest is enough), and a
 * password only as its argon2id hash (lib/passwords.ts).
 */
import type { AccessLevel, AccessRules } from '../lib/identity.ts';

export interface Account {
  /** The sign-in name, which is also the display name. */
  name: string;
  /** argon2id, in the PHC string form. */
  passwordHash: string;
  admin: boolean;
  /** Room patterns and what they allow this person (`user access`). */
  access: AccessRules;
  /** Milliseconds since the epoch. */
  created: number;
}

export interface AccessToken {
  /** The account it signs in as. */
  name: string;
  created: number;
  /** Milliseconds since the epoch, or null for a token that does not expire. */
  expires: number | null;
}

export interface Session {
  /** `Who.id` of the identity signed in: `user:NAME`, `jwt:SUB`, `token`. */
  subject: string;
  /** The verified display name, or null (the shared token names nobody). */
  name: string | null;
  admin: boolean;
  /**
   * Rules the session carries itself (a JWT's claims, the token's everything); null for an account, whose rules
   * are read from the account on each use, so `user access` applies to sessions already open.
   */
  rules: AccessRules | null;
  created: number;
  /** Last use, for the idle timeout (updated at most once a minute). */
  seen: number;
  /** The absolute end, whatever the use. */
  expires: number;
}

/** Something that may end open streams: a session revoked, or every session and right of a subject changed. */
export interface IdentityChange {
  subject: string;
  /** The session's digest, when one session ended; absent when the subject as a whole changed. */
  session?: string;
}

/** Rooms a subject keeps a read position in at the most (IdentityStore.setReadPosition): past it the oldest-updated goes. */
export const MAX_READ_ROOMS = 1000;

export interface IdentityStore {
  /** Creates or replaces an account. */
  putAccount(account: Account): Promise<void>;
  getAccount(name: string): Promise<Account | null>;
  listAccounts(): Promise<Account[]>;
  /** Removes the account, its tokens, its sessions and its read positions; false when there was none. */
  deleteAccount(name: string): Promise<boolean>;
  /** Sets (or, with null, removes) the level a room pattern gives `name`; false when there is no such account. */
  setAccess(name: string, pattern: string, level: AccessLevel | null): Promise<boolean>;

  addAccessToken(digest: string, token: AccessToken): Promise<void>;
  /** The token, unless it is unknown or expired. */
  findAccessToken(digest: string): Promise<AccessToken | null>;
  /** Revokes one of `name`'s tokens (by digest), or all of them; returns how many. */
  revokeAccessTokens(name: string, digest?: string): Promise<number>;

  putSession(digest: string, session: Session): Promise<void>;
  /** The session, unless it is unknown, idle past `idleMs`, or past its absolute end. */
  getSession(digest: string, idleMs: number): Promise<Session | null>;
  /** Records a use now (the idle timeout starts again). */
  touchSession(digest: string, seen: number): Promise<void>;
  deleteSession(digest: string): Promise<void>;
  /** Revokes every session of `subject`; returns how many. */
  deleteSessionsOf(subject: string): Promise<number>;

  /**
   * Records that `subject` (`Who.id`: `user:NAME`, `jwt:SUB`) has read `room` up to message `id`, keeping the later
   * of this and what is stored (store/types.ts compareIds): a stale browser never moves it back. A subject keeps
   * positions in 1000 rooms at the most: a new room past that drops the position updated longest ago (a room not
   * visited for that long counts nothing unread, as in a browser that never read it). deleteAccount removes the
   * positions of `user:NAME`.
   */
  setReadPosition(subject: string, room: string, id: string): Promise<void>;
  /** Where `subject` last read each room: room → message id ({} when nowhere). */
  readPositions(subject: string): Promise<Record<string, string>>;

  /**
   * Called (on every instance, and for changes `bun run user` made in another process) within about a second of
   * a change that may end open streams: a session revoked, an account deleted, its password or access changed.
   */
  onIdentityChange(listener: (change: IdentityChange) => void): () => void;
}

/**
 * An identity store opened on its own, without the rest of the store (`bun run user` beside running servers:
 * store/index.ts `openIdentityStore`): `close()` lets go of what it opened.
 */
export interface StandaloneIdentity extends IdentityStore {
  close(): Promise<void>;
}

/** The store's identity ability when it has one. */
export function identityStoreOf(store: object): IdentityStore | undefined {
  const candidate = store as Partial<IdentityStore>;
  return typeof candidate.getSession === 'function' ? (store as IdentityStore) : undefined;
}
