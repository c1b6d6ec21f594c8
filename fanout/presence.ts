import type { Presence, PresenceChange } from '../lib/chat-types.ts';
import type { PresenceShare, SharedPresence } from '../store/types.ts';

interface Member {
  name: string | null;
  client: string | null;
}

/** A room's presence changed: `change` says who came, went or was renamed, or is null when none of that is news. */
export type PresenceListener = (room: string, change: PresenceChange | null) => void;

/**
 * Who is connected to each room: one entry per open stream of this instance, keyed by its slot, plus (with a
 * `shared` store, e.g. redis) the members other instances report. It tells its listener what changed, not who is
 * there: the publisher coalesces changes and asks for the room's members (get) only when an event goes out.
 */
export function createPresence(shared?: SharedPresence) {
  const rooms = new Map<string, Map<number, Member>>();
  let emit: PresenceListener = () => {};
  /** What other instances report (shared presence, issue 7); nothing without a shared store. */
  const remote = (room: string): PresenceShare => shared?.remotePresence(room) ?? { streams: 0, names: {} };

  const heldHere = (room: string, name: string) => [...(rooms.get(room)?.values() ?? [])].some((m) => m.name === name);
  /** A named member's arrival or departure is news only when no other stream of theirs is still here (or elsewhere). */
  const stillHere = (room: string, name: string) => heldHere(room, name) || (remote(room).names[name] ?? 0) > 0;

  // --- shared presence (issue 7): other instances' members, and telling them about ours ---
  const share = (room: string, change: PresenceChange | null) => {
    if (!shared) return;
    const names: Record<string, number> = {};
    // Each client's name here ('' for none, or for streams under different names): another instance asked to
    // rename that client knows its streams are here, and whether the rename is news.
    const clients: Record<string, string> = {};
    for (const m of rooms.get(room)?.values() ?? []) {
      if (m.name) names[m.name] = (names[m.name] ?? 0) + 1;
      if (m.client !== null) clients[m.client] = m.client in clients && clients[m.client] !== (m.name ?? '') ? '' : (m.name ?? '');
    }
    shared.sharePresence(room, { streams: rooms.get(room)?.size ?? 0, names, clients }, change);
  };
  // Another instance's members came or went: news here only for a name no stream of this instance holds.
  shared?.onRemotePresence((room, changes) => {
    const news = changes.filter((c) => c.kind === 'rename' || !heldHere(room, c.name));
    if (news.length === 0) emit(room, null);
    for (const change of news) emit(room, change);
  });
  // A rename made on another instance (PUT …/members/:client, or a POST under a new name) for streams here.
  shared?.onRemoteRename((room, client, name) => void rename(room, client, name));
  // --- end shared presence ---

  /**
   * The client's streams in `room` take `name` (a POST under a new name, or an explicit rename). A stream that
   * had no name joins under it. Returns whether the client has a stream here.
   */
  function rename(room: string, client: string, name: string): boolean {
    const members = [...(rooms.get(room)?.values() ?? [])].filter((m) => m.client === client);
    const changed = members.filter((m) => m.name !== name);
    if (changed.length === 0) return members.length > 0;
    const from = changed.find((m) => m.name !== null)?.name ?? null;
    const joining = !stillHere(room, name);
    for (const m of changed) m.name = name;
    const change = from !== null ? { kind: 'rename' as const, name, from } : joining ? { kind: 'join' as const, name } : null;
    share(room, change);
    emit(room, change);
    return true;
  }

  return {
    /** Sets who hears of changes (one listener: the hub wires it to the publisher). */
    onChange(listener: PresenceListener) {
      emit = listener;
    },
    /** The name the stream in `slot` goes by now (renames included), or null. */
    nameOf: (room: string, slot: number): string | null => rooms.get(room)?.get(slot)?.name ?? null,
    join(room: string, slot: number, member: Member) {
      let members = rooms.get(room);
      if (!members) rooms.set(room, (members = new Map()));
      const news = member.name !== null && !stillHere(room, member.name);
      members.set(slot, member);
      const change = news ? { kind: 'join' as const, name: member.name! } : null;
      share(room, change);
      emit(room, change);
    },
    leave(room: string, slot: number) {
      const members = rooms.get(room);
      const member = members?.get(slot);
      if (!members || !member) return;
      members.delete(slot);
      if (members.size === 0) rooms.delete(room);
      const news = member.name !== null && !stillHere(room, member.name);
      const change = news ? { kind: 'leave' as const, name: member.name! } : null;
      share(room, change);
      emit(room, change);
    },
    rename,
    /**
     * The client's streams in `room`, here and on the other instances (with a shared store), take `name`. The
     * streams elsewhere are renamed by their instance, which reports it as a rename change. Returns whether the
     * client has a stream here or elsewhere.
     */
    renameEverywhere(room: string, client: string, name: string): boolean {
      const here = rename(room, client, name);
      const there = remote(room).clients?.[client];
      if (there === undefined) return here;
      if (there !== name) shared?.renameElsewhere(room, client, name);
      return true;
    },
    /**
     * Who is in the room now: every name (sorted), the count of streams, and how many of those have no name
     * (`watching`), here and elsewhere.
     */
    get(room: string): Presence {
      const members = rooms.get(room);
      const there = remote(room);
      const names = new Set<string>(Object.keys(there.names));
      let watching = Math.max(0, there.streams - Object.values(there.names).reduce((sum, n) => sum + n, 0));
      for (const m of members?.values() ?? []) if (m.name) names.add(m.name); else watching++;
      return { room, members: [...names].sort(), count: (members?.size ?? 0) + there.streams, watching, change: null };
    },
  };
}
