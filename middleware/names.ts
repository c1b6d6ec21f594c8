/**
 * Names that belong to signed-in people. Signed in, a request acts under its identity's name (middleware/identify.ts
 * decided it); anonymous, it may choose one, but not one that looks like a signed-in person's (lib/names.ts: the
 * TR39 skeleton, case-insensitive), or anyone could post as "аlice" beside alice. Every route that takes a name
 * (posting, a stream's ?name=, a rename, typing) calls `checkName` once it has the cleaned name.
 */
import type { Context } from 'hono';
import type { AppEnv, Deps } from './app-env.ts';
import type { AuthMode } from '../lib/config.ts';
import { fail } from '../lib/errors.ts';
import { nameKeys } from '../lib/names.ts';
import type { IdentityStore } from '../store/identity-types.ts';

export const NAME_TAKEN = 'that name belongs to a signed-in person; choose another';

/** How long a read of the account list serves: `bun run user add` protects a new name within this. */
const ACCOUNTS_TTL_MS = 5_000;
/** Signed-in names seen here, kept this long after their last use and this many at most (oldest go first). */
const RECENT_TTL_MS = 24 * 60 * 60_000;
const RECENT_MAX = 10_000;

export interface ReservedNames {
  /** A signed-in name in use here: jwt mode has no list of its people, so the ones seen are what it protects. */
  saw(name: string): void;
  /** The protected name that `name` looks like, or null. */
  ownerOf(name: string): Promise<string | null>;
}

export interface ReservedNamesOptions {
  identity: IdentityStore | undefined;
  /** Accounts are protected in accounts mode only: elsewhere nobody can sign in as one, so its name is nobody's. */
  auth: AuthMode;
  now?: () => number;
}

export function createReservedNames({ identity, auth, now = Date.now }: ReservedNamesOptions): ReservedNames {
  const listed = auth === 'accounts' ? identity : undefined;
  let accounts: { at: number; keys: Map<string, string> } | null = null;
  let loading: Promise<Map<string, string>> | null = null;
  // By skeleton key, least recently seen first (a Map keeps insertion order; a use moves the key to the end).
  const recent = new Map<string, { name: string; at: number }>();

  const load = (store: IdentityStore) =>
    store.listAccounts().then(
      (list) => {
        const keys = new Map<string, string>();
        for (const account of list) for (const key of nameKeys(account.name)) keys.set(key, account.name);
        accounts = { at: now(), keys };
        return keys;
      },
      // A store that fails a moment (Redis reconnecting) leaves the last list in force rather than every name open.
      (error: unknown) => (accounts ? accounts.keys : Promise.reject(error)),
    );

  const accountKeys = async (): Promise<ReadonlyMap<string, string>> => {
    if (!listed) return new Map();
    if (accounts && now() - accounts.at < ACCOUNTS_TTL_MS) return accounts.keys;
    loading ??= load(listed).finally(() => (loading = null)); // one read however many requests wait for it
    return loading;
  };

  return {
    saw(name) {
      const at = now();
      for (const key of nameKeys(name)) {
        recent.delete(key);
        recent.set(key, { name, at });
      }
      for (const key of recent.keys()) {
        if (recent.size <= RECENT_MAX) break;
        recent.delete(key);
      }
    },
    async ownerOf(name) {
      const keys = nameKeys(name);
      const held = await accountKeys();
      for (const key of keys) {
        const owner = held.get(key);
        if (owner !== undefined) return owner;
        const seen = recent.get(key);
        if (seen && now() - seen.at < RECENT_TTL_MS) return seen.name;
      }
      return null;
    },
  };
}

const byApp = new WeakMap<Deps, ReservedNames>();
/** The app's one set of reserved names (made on first use, so createApp needs no change for it). */
const reservedOf = (deps: Deps) => {
  let reserved = byApp.get(deps);
  if (!reserved) byApp.set(deps, (reserved = createReservedNames({ identity: deps.identity, auth: deps.config.auth })));
  return reserved;
};

/**
 * Signed in: the identity's name is noted as taken and `chosen` is not looked at (the route uses the identity's).
 * Anonymous: `chosen` (already cleaned by lib/input.ts; null for none) is refused with 409 when it looks like a
 * signed-in person's name.
 */
export async function checkName<E extends AppEnv>(c: Context<E>, chosen: string | null | undefined): Promise<void> {
  const who = c.get('who');
  const reserved = reservedOf(c.get('deps'));
  if (who.name !== null) return reserved.saw(who.name);
  if (chosen && (await reserved.ownerOf(chosen)) !== null) fail(409, NAME_TAKEN);
}

/**
 * What a message says of its sender's name (lib/chat-types.ts `verified`): true when signed in; false for a chosen
 * name where others sign in (accounts, jwt); nothing where nobody signs in, so open mode's messages stay as they were.
 */
export function verifiedOf<E extends AppEnv>(c: Context<E>): { verified?: boolean } {
  if (c.get('who').name !== null) return { verified: true };
  const { auth } = c.get('deps').config;
  return auth === 'accounts' || auth === 'jwt' ? { verified: false } : {};
}
