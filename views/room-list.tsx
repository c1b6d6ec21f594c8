/** @jsxImportSource hono/jsx */
import { clock } from './status-snapshot.ts';

/** A room in GET /rooms: its name, who is in it (named people; unnamed streams watching), its newest message's time. */
export interface RoomListing {
  name: string;
  here: number;
  watching: number;
  /** ms since the epoch of its newest message. */
  last: number;
  /** Its newest message's id: a page compares it with where it last read the room (its unread count). */
  lastId: string;
  /** A direct room's other person, as the requester sees it (yourself in your notes), when known. */
  with?: string;
}

/** The room list as an htmx fragment: links to the rooms, newest first. */
export const RoomListView = ({ rooms }: { rooms: RoomListing[] }) => (
  <ul class="room-list">
    {rooms.map((r) => (
      <li>
        <a href={`/rooms/${encodeURIComponent(r.name)}`} data-room={r.name}>
          <span class="hash" aria-hidden="true">{r.with === undefined ? '#' : '@'}</span>
          {r.with ?? r.name}
        </a>{' '}
        <span class="room-here">{r.here} here</span> <time datetime={new Date(r.last).toISOString()}>{clock(r.last)}</time>
      </li>
    ))}
  </ul>
);

/** The room list as terminal lines: `#main  2 here  last 12:01:03`; a direct room `#dm-…-… (@bob)  …`. */
export const roomListText = (rooms: RoomListing[]) =>
  rooms.map((r) => `#${r.name}${r.with === undefined ? '' : ` (@${r.with})`}  ${r.here} here${r.watching ? ` and ${r.watching} watching` : ''}  last ${clock(r.last)}\n`).join('') || '* no rooms yet\n';
