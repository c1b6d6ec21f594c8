/** The rights in a direct room (lib/direct.ts, lib/identity.ts `may`): its two people only, whatever the rules. */
import { describe, expect, it } from 'bun:test';
import { directPair, directRoom, personKey } from '../../lib/direct.ts';
import { may, type Who } from '../../lib/identity.ts';

const person = (id: string, over: Partial<Who> = {}): Who => ({ id, name: id.split(':')[1]!, via: 'password', admin: false, rules: { '*': 'read-write' }, session: null, ...over });

describe('direct rooms', () => {
  const alice = personKey('user:alice')!;
  const bob = personKey('user:bob')!;
  const room = directRoom(alice, bob);

  it('is the same room from either side, and only persons have keys', () => {
    expect(directRoom(bob, alice)).toBe(room);
    expect(directPair(room)).toEqual([alice, bob].sort() as [string, string]);
    expect(personKey('token')).toBeNull();
    expect(personKey('anon:127.0.0.1')).toBeNull();
    expect(personKey('jwt:user:alice')).not.toBe(personKey('user:alice'));
  });

  it('lets its two people read and write, and nobody else: not an admin, not the shared token, not a rule', () => {
    expect(may(person('user:alice'), 'write', room)).toBe(true);
    expect(may(person('user:bob'), 'read', room)).toBe(true);
    expect(may(person('user:carol', { rules: { [room]: 'read-write' } }), 'read', room)).toBe(false);
    expect(may(person('user:root', { admin: true }), 'read', room)).toBe(false);
    expect(may(person('token', { admin: true, via: 'token' }), 'read', room)).toBe(false);
    expect(may(person('user:alice', { admin: true }), 'admin', room)).toBe(false);
    const [a, b] = directPair(room)!;
    expect(may(person('user:alice'), 'read', `dm-${b}-${a}`)).toBe(false); // keys out of order: nobody's
  });

  it("keeps an operator's dm-* rule for the person it is written for", () => {
    expect(may(person('user:alice', { rules: { '*': 'read-write', 'dm-*': 'read-only' } }), 'write', room)).toBe(false);
    expect(may(person('user:alice', { rules: { '*': 'read-write', 'dm-*': 'read-only' } }), 'read', room)).toBe(true);
    expect(may(person('user:alice', { rules: { '*': 'deny' } }), 'write', room)).toBe(true);
  });
});
