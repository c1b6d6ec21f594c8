import { describe, expect, it } from 'bun:test';
import type { PresenceChange } from '../../lib/chat-types.ts';
import { createPresence } from '../../fanout/presence.ts';
import type { PresenceShare, SharedPresence } from '../../store/types.ts';

/** A presence whose changes are recorded as [room, change]. */
function recorded() {
  const presence = createPresence();
  const changes: [string, PresenceChange | null][] = [];
  presence.onChange((room, change) => changes.push([room, change]));
  return { presence, changes };
}

describe('presence', () => {
  it('tells of a named arrival and departure once, whatever number of streams the name holds', () => {
    const { presence, changes } = recorded();
    presence.join('main', 0, { name: 'ann', client: 'a' });
    presence.join('main', 1, { name: 'ann', client: 'a' }); // a second tab
    presence.leave('main', 0);
    presence.leave('main', 1);
    expect(changes).toEqual([
      ['main', { kind: 'join', name: 'ann' }],
      ['main', null],
      ['main', null],
      ['main', { kind: 'leave', name: 'ann' }],
    ]);
  });

  it('tells of a nameless stream with no change, and of a slot that never joined with nothing', () => {
    const { presence, changes } = recorded();
    presence.join('main', 3, { name: null, client: null });
    presence.leave('other', 3);
    presence.leave('main', 7);
    expect(changes).toEqual([['main', null]]);
  });

  it('lists who is here, names sorted once each, and counts streams, and those without a name', () => {
    const { presence } = recorded();
    presence.join('main', 0, { name: 'cy', client: null });
    presence.join('main', 1, { name: 'ann', client: null });
    presence.join('main', 2, { name: 'cy', client: null });
    presence.join('main', 3, { name: null, client: null });
    presence.join('elsewhere', 4, { name: 'bo', client: null });
    expect(presence.get('main')).toEqual({ room: 'main', members: ['ann', 'cy'], count: 4, watching: 1, change: null });
    expect(presence.get('empty')).toEqual({ room: 'empty', members: [], count: 0, watching: 0, change: null });
  });

  it("renames a client's streams in place: a rename, or a join for a stream that had no name", () => {
    const { presence, changes } = recorded();
    presence.join('main', 0, { name: 'alice', client: 'c1' });
    presence.join('main', 1, { name: 'alice', client: 'c1' });
    presence.join('main', 2, { name: null, client: 'c2' });
    changes.length = 0;
    expect(presence.rename('main', 'c1', 'alicia')).toBe(true);
    expect(presence.rename('main', 'c2', 'zed')).toBe(true);
    expect(presence.rename('main', 'c2', 'zed')).toBe(true); // no change: no news
    expect(presence.rename('main', 'nobody', 'x')).toBe(false);
    expect(changes).toEqual([
      ['main', { kind: 'rename', name: 'alicia', from: 'alice' }],
      ['main', { kind: 'join', name: 'zed' }],
    ]);
    expect(presence.get('main').members).toEqual(['alicia', 'zed']);
  });
});

describe('presence shared with other instances', () => {
  /** A SharedPresence in memory: what this instance shared, the renames it asked for, and hooks to play the others. */
  function sharedFake() {
    const shares: { room: string; share: PresenceShare }[] = [];
    const asked: [string, string, string][] = [];
    let others: PresenceShare = { streams: 0, names: {} };
    let renameHere: (room: string, client: string, name: string) => void = () => {};
    const shared: SharedPresence = {
      sharePresence: (room, share) => void shares.push({ room, share }),
      remotePresence: () => others,
      onRemotePresence: () => () => {},
      renameElsewhere: (room, client, name) => void asked.push([room, client, name]),
      onRemoteRename: (listener) => ((renameHere = listener), () => {}),
      typingElsewhere: () => {},
      onRemoteTyping: () => () => {},
    };
    return { shared, shares, asked, setOthers: (share: PresenceShare) => void (others = share), renameHere: (room: string, client: string, name: string) => renameHere(room, client, name) };
  }

  it('shares each client with its name, asks the others to rename a client of theirs, and renames its own when asked', () => {
    const fake = sharedFake();
    const presence = createPresence(fake.shared);
    const changes: (PresenceChange | null)[] = [];
    presence.onChange((_room, change) => changes.push(change));
    presence.join('main', 0, { name: 'ann', client: 'c1' });
    presence.join('main', 1, { name: null, client: 'c2' });
    expect(fake.shares.at(-1)!.share).toEqual({ streams: 2, names: { ann: 1 }, clients: { c1: 'ann', c2: '' } });
    // c9's streams are on another instance, under "bo".
    fake.setOthers({ streams: 1, names: { bo: 1 }, clients: { c9: 'bo' } });
    expect(presence.get('main')).toMatchObject({ members: ['ann', 'bo'], count: 3, watching: 1 });
    fake.setOthers({ streams: 4, names: { bo: 1, ann: 2 }, clients: { c9: 'bo' } }); // one stream there has no name
    expect(presence.get('main')).toMatchObject({ members: ['ann', 'bo'], count: 6, watching: 2 });
    fake.setOthers({ streams: 1, names: { bo: 1 }, clients: { c9: 'bo' } });
    expect(presence.renameEverywhere('main', 'c9', 'bob')).toBe(true);
    expect(presence.renameEverywhere('main', 'c9', 'bo')).toBe(true); // already its name there: nothing to ask
    expect(presence.renameEverywhere('main', 'nobody', 'x')).toBe(false);
    expect(fake.asked).toEqual([['main', 'c9', 'bob']]);
    // Another instance asks for c1 here to be renamed: a rename change, shared as such.
    changes.length = 0;
    fake.renameHere('main', 'c1', 'anna');
    expect(changes).toEqual([{ kind: 'rename', name: 'anna', from: 'ann' }]);
    expect(fake.shares.at(-1)!.share.clients).toEqual({ c1: 'anna', c2: '' });
  });
});
