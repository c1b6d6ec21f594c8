/**
 * Which names are a signed-in person's (middleware/names.ts createReservedNames): every account's in accounts mode,
 * read at most every few seconds; in any mode, the signed-in names seen lately (jwt mode has no list); none when
 * the store has no identity ability.
 */
import { describe, expect, it } from 'bun:test';
import { createReservedNames } from '../../middleware/names.ts';
import { createMemoryIdentity } from '../../store/memory-identity.ts';
import type { IdentityStore } from '../../store/identity-types.ts';

const account = (name: string) => ({ name, passwordHash: 'x', admin: false, access: {}, created: 0 });

/** An identity store whose account list is counted, and may be made to fail. */
function countingStore() {
  const store = createMemoryIdentity();
  const counted = { reads: 0, failing: false };
  const identity: IdentityStore = {
    ...store,
    listAccounts: async () => {
      counted.reads++;
      if (counted.failing) throw new Error('store down');
      return store.listAccounts();
    },
  };
  return { store, identity, counted };
}

describe('reserved names', () => {
  it("protects every account's name and its look-alikes in accounts mode, from one read a few seconds", async () => {
    const { store, identity, counted } = countingStore();
    await store.putAccount(account('alice'));
    let now = 1_000;
    const reserved = createReservedNames({ identity, auth: 'accounts', now: () => now });
    expect(await Promise.all(['alice', 'ALICE', 'al\u200bice', '\u0430lice'].map((n) => reserved.ownerOf(n)))).toEqual(['alice', 'alice', 'alice', 'alice']);
    expect(await reserved.ownerOf('alicia')).toBeNull();
    expect(counted.reads).toBe(1); // the four at once shared one read

    await store.putAccount(account('dave'));
    expect(await reserved.ownerOf('dave')).toBeNull(); // the list read a moment ago still serves
    now += 5_000;
    expect(await reserved.ownerOf('dave')).toBe('dave');
    expect(counted.reads).toBe(2);

    counted.failing = true; // a store that fails a moment keeps the last list in force
    now += 5_000;
    expect(await reserved.ownerOf('DAVE')).toBe('dave');
  });

  it('remembers signed-in names seen (jwt mode has no list), for a day and a bounded number of them', async () => {
    let now = 0;
    const reserved = createReservedNames({ identity: createMemoryIdentity(), auth: 'jwt', now: () => now });
    expect(await reserved.ownerOf('Grace')).toBeNull();
    reserved.saw('grace');
    expect(await reserved.ownerOf('GRACE')).toBe('grace');
    now += 24 * 60 * 60_000;
    expect(await reserved.ownerOf('grace')).toBeNull();
    reserved.saw('grace');
    for (let i = 0; i < 10_000; i++) reserved.saw(`user${i}`);
    expect(await reserved.ownerOf('grace')).toBeNull(); // the oldest went first
    expect(await reserved.ownerOf('user9999')).toBe('user9999');
  });

  it('protects no account outside accounts mode, and nothing without an identity store', async () => {
    const { store, identity, counted } = countingStore();
    await store.putAccount(account('alice'));
    expect(await createReservedNames({ identity, auth: 'open' }).ownerOf('alice')).toBeNull();
    expect(await createReservedNames({ identity, auth: 'jwt' }).ownerOf('alice')).toBeNull();
    expect(counted.reads).toBe(0);
    expect(await createReservedNames({ identity: undefined, auth: 'accounts' }).ownerOf('alice')).toBeNull();
  });
});
