import { describe, expect, it } from 'bun:test';
import type { PresenceChange } from '../../lib/chat-types.ts';
import { createPresence } from '../../fanout/presence.ts';

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

  it('lists who is here, names sorted once each, and counts streams', () => {
    const { presence } = recorded();
    presence.join('main', 0, { name: 'cy', client: null });
    presence.join('main', 1, { name: 'ann', client: null });
    presence.join('main', 2, { name: 'cy', client: null });
    presence.join('main', 3, { name: null, client: null });
    presence.join('elsewhere', 4, { name: 'bo', client: null });
    expect(presence.get('main')).toEqual({ room: 'main', members: ['ann', 'cy'], count: 4, change: null });
    expect(presence.get('empty')).toEqual({ room: 'empty', members: [], count: 0, change: null });
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
