/**
 * The names behind person keys (lib/direct.ts), so a direct room reads as "@bob" rather than its key: every
 * signed-in person who passes the door is noted (the JWT names this instance has seen), and an account's name is
 * found among the accounts (the identity store is every instance's). A key nobody here can name stays unnamed.
 */
import { otherInDirectRoom, personKey } from '../lib/direct.ts';
import type { Who } from '../lib/identity.ts';
import type { IdentityStore } from '../store/identity-types.ts';

/** Keys kept at the most (the oldest noted go first), and how often the accounts are read again for an unknown key. */
const KEPT = 10_000;
const ACCOUNTS_AGAIN_MS = 10_000;

export interface PeopleDirectory {
  /** Notes the person a request is (app.ts, after identify.ts). */
  note(who: Who): void;
  /** The display name of person key `key`, or null when unknown here. */
  nameOf(key: string): Promise<string | null>;
  /** What `who` calls direct room `room`: the other person's name, or null when it is not theirs or not known. */
  partnerIn(who: Who, room: string): Promise<string | null>;
}

export function createPeopleDirectory(identity: IdentityStore | undefined): PeopleDirectory {
  const names = new Map<string, string>();
  const remember = (key: string, name: string) => {
    names.delete(key); // re-inserted: the Map's order is the order of the last notes
    names.set(key, name);
    if (names.size > KEPT) names.delete(names.keys().next().value!);
  };
  let accountsRead = 0;
  const fromAccounts = async (key: string) => {
    if (!identity || Date.now() - accountsRead < ACCOUNTS_AGAIN_MS) return null;
    accountsRead = Date.now();
    for (const account of await identity.listAccounts().catch(() => [])) remember(personKey(`user:${account.name}`)!, account.name);
    return names.get(key) ?? null;
  };
  const nameOf = async (key: string) => names.get(key) ?? (await fromAccounts(key));
  return {
    note(who) {
      const key = who.name === null ? null : personKey(who.id);
      if (key && names.get(key) !== who.name) remember(key, who.name!);
    },
    nameOf,
    async partnerIn(who, room) {
      const other = otherInDirectRoom(who.id, room);
      return other === null ? null : other === personKey(who.id) ? who.name : nameOf(other);
    },
  };
}
