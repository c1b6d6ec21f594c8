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

/** "and 2 watching": readers without a name (people.js keeps it current, leaving out the page's own stream). */
export const watchingText = (watching: number) => (watching > 0 ? ` and ${watching} watching` : '');

/**
 * Who is in the room: the people listed (a name counts once, however many streams it has), and the streams without
 * a name as "and N watching". The status page's stream is in neither.
 */
export const People = ({ members, watching = 0 }: Pick<Presence, 'members' | 'watching'>) => (
  <aside class="people" aria-labelledby="people-title">
    <h2 id="people-title">
      <span class="dot" aria-hidden="true"></span>
      <span id="count">{members.length}</span> here
      <span id="watching" hidden={watching === 0}>
        {watchingText(watching)}
      </span>
    </h2>
    <ul id="members">
      {members.map((name) => (
        <Person name={name} />
      ))}
    </ul>
  </aside>
);
