/** @jsxImportSource hono/jsx */
import type { ChatMessage } from '../lib/chat-types.ts';
import { LIMITS, roomPath } from '../lib/input.ts';
import { hue } from './message.tsx';

/** A search the room page shows: its words as typed, and what it found, or why it could not look (`error`). */
export interface SearchState {
  query: string;
  messages: ChatMessage[];
  /** The most results asked for: a full page says it shows the newest of them. */
  limit: number;
  error?: string;
}

/** Where a result leads: the room page around the message (routes/page.ts `at=`), scrolled to it and highlighted. */
export const messageInPlace = (room: string, id: string) => `${roomPath(room)}?at=${encodeURIComponent(id)}#m-${id}`;

const plural = (n: number) => `${n} message${n === 1 ? '' : 's'}`;

/** The first item of the results: how many were found, or that none was, or why there was no search. */
const Summary = ({ room, search }: { room: string; search: SearchState }) => {
  const n = search.messages.length;
  const said = search.error ?? (n === 0 ? `No message in #${room} holds “${search.query}”.` : `${plural(n)} with “${search.query}”${n >= search.limit ? ', the newest' : ''}, newest first:`);
  return (
    <li class="search-summary">
      {said} <a href={roomPath(room)} class="search-close">Close</a>
    </li>
  );
};

/** One result: a link to the message in its place, with who wrote it, when (UTC) and its text. */
const Result = ({ room, message }: { room: string; message: ChatMessage }) => {
  const iso = new Date(message.ts).toISOString();
  return (
    <li class={`result hue-${hue(message.name)}`}>
      <a href={messageInPlace(room, message.id)}>
        <b class="name">{message.name}</b> <time datetime={iso}>{`${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`}</time>
        <span class="result-text">{message.text}</span>
      </a>
    </li>
  );
};

/** The results as <li> items: the answer to the page's htmx search (`GET …/messages?q=` as html), and the panel's content. */
export const SearchItems = ({ room, search }: { room: string; search: SearchState }) => (
  <>
    <Summary room={room} search={search} />
    {search.messages.map((m) => (
      <Result room={room} message={m} />
    ))}
  </>
);

export const renderSearchResults = (room: string, search: SearchState): string => String(<SearchItems room={room} search={search} />);

/**
 * The search box and its results panel, above the messages. Without JavaScript the form loads the room page with
 * `?q=`, which renders the results in the panel; with it, htmx asks `GET …/messages?q=` (html) and puts the items in
 * the panel. The panel is hidden while empty (app.css).
 */
export const SearchArea = ({ room, label = `#${room}`, search }: { room: string; label?: string; search?: SearchState | undefined }) => (
  <div class="search-area">
    <form
      class="search"
      method="get"
      action={roomPath(room)}
      role="search"
      aria-label="Search messages"
      hx-get={`${roomPath(room)}/messages`}
      hx-target="#search-results"
      hx-swap="innerHTML"
    >
      <label class="sr-only" for="search-input">
        Search messages
      </label>
      <input
        id="search-input"
        type="search"
        name="q"
        value={search?.query ?? ''}
        placeholder={`Search ${label}…`}
        maxlength={LIMITS.search}
        pattern=".*[\p{L}\p{N}].*"
        title="words to find: letters or digits"
        autocomplete="off"
        enterkeyhint="search"
        required
      />
      <button type="submit" class="go" aria-label="Search">
        <svg viewBox="0 0 16 16" width="15" height="15" aria-hidden="true" focusable="false">
          <circle cx="6.5" cy="6.5" r="4.5" fill="none" stroke="currentColor" stroke-width="1.8" />
          <path d="M10 10l4 4" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" />
        </svg>
      </button>
    </form>
    <ol id="search-results" class="search-results" aria-label="Search results" aria-live="polite">
      {search ? <SearchItems room={room} search={search} /> : null}
    </ol>
  </div>
);
