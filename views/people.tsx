/** @jsxImportSource hono/jsx */
import type { Presence } from '../lib/chat-types.ts';
import { hue, initial } from './message.tsx';

/** One person in the people list; app.js builds the same markup from `presence` events. */
export const Person = ({ name }: { name: string }) => (
  <li class={`person hue-${hue(name)}`} data-name={name}>
    <span class="avatar" aria-hidden="true">{initial(name)}</span>
    <span class="person-name">{name}</span>
  </li>
);

/** Who is in the room: named people, and how many streams are open (readers without a name count too). */
export const People = ({ members, count }: Pick<Presence, 'members' | 'count'>) => (
  <aside class="people" aria-labelledby="people-title">
    <h2 id="people-title">
      <span class="dot" aria-hidden="true"></span>
      <span id="count">{count}</span> here
    </h2>
    <ul id="members">
      {members.map((name) => (
        <Person name={name} />
      ))}
    </ul>
  </aside>
);
