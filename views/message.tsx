/** @jsxImportSource hono/jsx */
import { raw } from 'hono/html';
import type { ChatMessage, ReplyQuote } from '../lib/chat-types.ts';
import { renderMarkdown } from './markdown.ts';
import { quoteWords } from './quote.ts';
import { personOf } from '../lib/direct.ts';

/** Seconds-free UTC clock time; the page's script rewrites it into the viewer's local time. */
export const clock = (ts: number) => `${new Date(ts).toISOString().slice(11, 16)} UTC`;

/** Colour buckets for names (classes hue-0 … hue-11 in app.css). */
export const HUES = 12;

/**
 * A name's colour bucket: FNV-1a over its UTF-16 code units. views/assets/app.js computes the same for the
 * people list, so a person has one colour everywhere; keep the two in step.
 */
export function hue(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h % HUES;
}

/** The first character of a name (a whole code point, so an emoji stays whole), for the avatar. */
export const initial = (name: string) => (Array.from(name)[0] ?? '?').toUpperCase();

/**
 * How the page tells names apart: a signed-in sender's name carries a ✓ (read out as "verified"); one an anonymous
 * sender chose, where others sign in, is `~name` in the `anon` style (app.css) with a title that says so, as the text
 * format writes it; where nobody signs in, neither (every name there is chosen). The mark sits inside the name's
 * element, which the page's grid places whole.
 */
const Name = ({ name, verified, person }: { name: string; verified: boolean | undefined; person?: string }) =>
  verified === false ? (
    <b class="name anon" title="not signed in">{name}</b>
  ) : (
    <b class="name">
      {person ? (
        // Out of the Tab order, as the reply button (the arrow keys reach it: views/assets/replying.js).
        <a class="person-link" href={`/dm/${person}`} tabindex={-1} title={`Send ${name} a direct message`}>
          {name}
        </a>
      ) : (
        name
      )}
      {verified ? <span class="verified" role="img" aria-label="verified" title="signed in: a verified name">✓</span> : null}
    </b>
  );

/** An edited message's mark, after its time (views/assets/app.js adds the same when an `edit` event arrives). */
const Edited = ({ edited }: { edited: number }) => <span class="edited" title={`edited ${new Date(edited).toISOString()}`}>(edited)</span>;

/** The message a reply answers: a quote that links to it in the room (when the page still shows it). */
const Quote = ({ quote }: { quote: ReplyQuote }) => (
  <a class="quote" href={`#m-${quote.id}`} data-reply-to={quote.id}>
    <b>{quote.name}</b> {quoteWords(quote.text)}
  </a>
);

/**
 * One chat message, the same markup in the page's history and in the SSE `html` stream. `found`: the message a
 * search result opened the room at (routes/page.ts `at=`), highlighted.
 */
export const MessageItem = ({ message, found = false }: { message: ChatMessage; found?: boolean }) => {
  const iso = new Date(message.ts).toISOString();
  return (
    <li class={`msg hue-${hue(message.name)}${found ? ' found' : ''}`} id={`m-${message.id}`} data-id={message.id} data-name={message.name} aria-current={found ? 'true' : undefined}>
      <span class="avatar" aria-hidden="true">{initial(message.name)}</span>
      <div class="bubble">
        <div class="meta">
          <Name name={message.name} verified={message.verified} {...personOf(message)} /> <time datetime={iso} title={iso}>{clock(message.ts)}</time>
          {message.edited === undefined ? null : <> <Edited edited={message.edited} /></>}
          {/* Out of the Tab order (one stop per message would bury the box): from the focused list, the arrow keys
              reach them (views/assets/replying.js). */}
          <button type="button" class="reply-button" tabindex={-1} aria-label={`Reply to ${message.name}`} title="Reply">
            ↩
          </button>
        </div>
        {message.replyTo ? <Quote quote={message.replyTo} /> : null}
        {/* Markdown rendered on the server with raw HTML off (views/markdown.ts): the one markup not escaped here. */}
        <div class="text">{raw(renderMarkdown(message.text))}</div>
      </div>
    </li>
  );
};

/** The markup of one message as a string (escaped by hono/jsx, its text rendered by views/markdown.ts). */
export const renderMessage = (message: ChatMessage): string => String(<MessageItem message={message} />);
