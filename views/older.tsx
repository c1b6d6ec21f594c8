/** @jsxImportSource hono/jsx */
import type { ChatMessage } from '../lib/chat-types.ts';
import { textLine } from './frames.ts';
import { MessageItem } from './message.tsx';

/**
 * What lies before the oldest message a reader has: older ones still to load, the room's first message, history
 * that retention removed, or an id the server no longer knows (its history was reset).
 */
export type HistoryEdge = 'more' | 'start' | 'trimmed' | 'reset';

/** Messages per page when the page scrolls back. */
export const OLDER_PAGE = 50;

/** The page of messages before `oldest`, as the sentinel asks for it. */
const olderUrl = (room: string, oldest: string) => `/rooms/${room}/messages?before=${oldest}&limit=${OLDER_PAGE}&format=html`;

/** The edge a page of older messages (a store's BeforePage) ends at. */
export const edgeOf = (page: { more: boolean; trimmed: boolean; unknown?: boolean }): HistoryEdge =>
  page.more ? 'more' : page.unknown ? 'reset' : page.trimmed ? 'trimmed' : 'start';

const edgeText = (room: string, edge: Exclude<HistoryEdge, 'more'>, retention: number) => {
  switch (edge) {
    case 'start':
      return `This is the start of #${room}.`;
    case 'trimmed':
      return `Older messages are no longer kept: this server keeps about the last ${retention} of a room.`;
    case 'reset':
      return 'Older messages are not on this server any more: its history was reset.';
  }
};

export interface HistoryTopProps {
  room: string;
  /** The oldest message shown; the sentinel asks for the messages before it. */
  oldest: string;
  edge: HistoryEdge;
  retention: number;
}

/**
 * The first item of #messages: a sentinel that htmx swaps for the older page once it scrolls into view
 * (views/assets/scroll-back.js keeps the reader's place), or a notice that nothing older is there.
 */
export const HistoryTop = ({ room, oldest, edge, retention }: HistoryTopProps) =>
  edge === 'more' ? (
    <li
      class="older"
      hx-get={olderUrl(room, oldest)}
      hx-trigger="intersect"
      hx-swap="outerHTML"
    >
      Loading older messages…
    </li>
  ) : (
    // data-older: the sentinel's URL, should the page drop its oldest messages later (scroll-back.js).
    <li class={`edge history-${edge}`} data-older={olderUrl(room, oldest)}>
      {edgeText(room, edge, retention)}
    </li>
  );

/** A page of older messages as HTML: what is before them (sentinel or notice), then the messages, oldest first. */
export const renderOlderPage = (room: string, messages: ChatMessage[], edge: HistoryEdge, retention: number): string =>
  String(
    <>
      {/* `more` comes with messages, so the sentinel always has an oldest id */}
      <HistoryTop room={room} oldest={messages[0]?.id ?? ''} edge={edge} retention={retention} />
      {messages.map((m) => (
        <MessageItem message={m} />
      ))}
    </>,
  );

/** The same page as terminal lines (bin/chat's /more): the stream's text lines, then a `*` line when nothing is older. */
export function olderPageText(room: string, messages: ChatMessage[], edge: HistoryEdge, retention: number): string {
  const lines = messages.map(textLine);
  if (edge === 'start') lines.push(`* nothing older: this is the start of #${room}`);
  if (edge === 'trimmed') lines.push(`* nothing older is kept: the server removed older messages (it keeps about the last ${retention} of a room)`);
  if (edge === 'reset') lines.push('* older messages are not on this server any more (its history was reset)');
  return lines.length ? `${lines.join('\n')}\n` : '';
}
