import type { Presence } from '../store/types.ts';

interface Member {
  name: string | null;
  client: string | null;
}

/** Who is connected to each room on this instance: one entry per open stream, keyed by its slot. */
export function createPresence(onChange: (presence: Presence) => void) {
  const rooms = new Map<string, Map<number, Member>>();

  const snapshot = (room: string, change: Presence['change']): Presence => {
    const members = rooms.get(room);
    const names = new Set<string>();
    for (const m of members?.values() ?? []) if (m.name) names.add(m.name);
    return { room, members: [...names].sort(), count: members?.size ?? 0, change };
  };
  /** A named member's arrival or departure is news only when no other stream of theirs is still here. */
  const stillHere = (room: string, name: string) =>
    [...(rooms.get(room)?.values() ?? [])].some((m) => m.name === name);

  return {
    join(room: string, slot: number, member: Member) {
      let members = rooms.get(room);
      if (!members) rooms.set(room, (members = new Map()));
      const news = member.name !== null && !stillHere(room, member.name);
      members.set(slot, member);
      onChange(snapshot(room, news ? { kind: 'join', name: member.name! } : null));
    },
    leave(room: string, slot: number) {
      const members = rooms.get(room);
      const member = members?.get(slot);
      if (!members || !member) return;
      members.delete(slot);
      if (members.size === 0) rooms.delete(room);
      const news = member.name !== null && !stillHere(room, member.name);
      onChange(snapshot(room, news ? { kind: 'leave', name: member.name! } : null));
    },
    /** The client posted under a new name: its streams take that name. */
    rename(room: string, client: string, name: string) {
      const members = rooms.get(room);
      let from: string | null = null;
      for (const m of members?.values() ?? []) {
        if (m.client === client && m.name !== name) {
          from = m.name;
          m.name = name;
        }
      }
      if (from !== null) onChange(snapshot(room, { kind: 'rename', name, from }));
    },
    get(room: string): Presence {
      return snapshot(room, null);
    },
  };
}
