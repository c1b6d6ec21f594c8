/** @jsxImportSource hono/jsx */
import type { ChatMessage, Presence } from '../lib/chat-types.ts';
import { Composer } from './composer.tsx';
import { Layout } from './layout.tsx';
import { MessageItem } from './message.tsx';
import { HistoryTop, type HistoryEdge } from './older.tsx';
import { People } from './people.tsx';
import { RoomBar } from './room-bar.tsx';
import { SearchArea, type SearchState } from './search.tsx';
import type { AssetName } from './static-assets.ts';

/** The room page's feature scripts, one file per feature (views/assets/), loaded after app.js. */
const FEATURE_SCRIPTS: AssetName[] = [
  // First: it formats every message before the others read it (attention.js marks mentions in its text).
  'message-look.js',
  'people.js',
  'sending.js',
  'room-switcher.js',
  'typing.js',
  'slow-post.js',
  'scroll-back.js',
  'attention.js',
  'replying.js',
];

export interface RoomPageProps {
  room: string;
  messages: ChatMessage[];
  /** What is before the first message shown (a sentinel loads older ones when they are kept), and --retention. */
  older?: HistoryEdge;
  retention?: number;
  /** Who was here when the page was rendered; app.js keeps it current from the stream's `presence` events. */
  presence: Pick<Presence, 'members' | 'count' | 'watching'>;
  /** Whether the bar shows a sign-out button (the page came with a session). */
  signOut?: boolean;
  /** The signed-in name (accounts, jwt): the page never asks for one, and posts go by it. Null when anonymous. */
  me?: string | null;
  /** A fresh Idempotency-Key for the form without JavaScript: a resent form (a refresh after a lost answer) is stored once. */
  sendKey?: string;
  /** The name the form without JavaScript last posted under (`?name=` on the way back), for its name field. */
  name?: string;
  /** A search to show in the panel (`?q=`: the search box without JavaScript). */
  search?: SearchState;
  /** The message the page opens at (`?at=`: a search result), highlighted among the messages around it. */
  found?: string;
  /** A line above the messages (the message asked for is not there any more). */
  notice?: string;
  /** What the room is called on the page: `#room`, or `@name` for a direct room (routes/page.ts). */
  label?: string;
}

/**
 * The live stream of a room as the page first connects to it: from the last rendered message on, so nothing is
 * missed or shown twice. An empty room starts after id 0 rather than with `history=0`: a reconnect before any
 * message arrived reuses this URL, and must still replay what was posted while it was down.
 */
export const streamUrl = (room: string, lastId: string | undefined) =>
  `/rooms/${room}/events?format=html&lastEventId=${lastId ?? '0'}`;

/** A room: its recent history in the HTML (works without JavaScript), then live updates over SSE. */
export const RoomPage = ({ room, messages, older = 'start', retention = 0, presence, signOut = false, me = null, sendKey = '', name = '', search, found, notice, label = `#${room}` }: RoomPageProps) => (
  <Layout title={`${label} · threadchat`} scripts={FEATURE_SCRIPTS}>
    <div class="app" data-room={room} data-me={me ?? undefined}>
      <RoomBar room={room} label={label} signOut={signOut} />
      <People {...presence} />
      <main class="chat">
        <noscript>
          <p class="banner">Live updates need JavaScript: reload the page to see new messages.</p>
        </noscript>
        <SearchArea room={room} label={label} search={search} />
        {notice ? <p class="banner" role="status">{notice}</p> : null}
        {/* The live stream: hx-sse appends each message to the list; app.js adds this tab's client id and name. It
            stays open in a background tab (hx-sse would close it): you are still in the room, and attention.js
            counts what arrives meanwhile. */}
        <div id="stream" hidden hx-sse:connect={streamUrl(room, messages.at(-1)?.id)} hx-config="sse.pauseOnBackground:false" hx-target="#messages" hx-swap="beforeend"></div>
        {/* Focusable, so the keyboard scrolls it too (and so reaches older messages: scroll-back.js). */}
        <ol id="messages" class="messages" aria-label={`Messages in ${label}`} aria-live="polite" tabindex={0}>
          <li class="empty">No messages yet. Say hello!</li>
          {messages[0] && <HistoryTop room={room} oldest={messages[0].id} edge={older} retention={retention} />}
          {messages.map((m) => (
            <MessageItem message={m} found={m.id === found} />
          ))}
        </ol>
        <button type="button" id="jump" class="jump" hidden>
          New messages ↓
        </button>
      </main>
      <Composer room={room} label={label} sendKey={sendKey} me={me} name={name} />
    </div>
  </Layout>
);
