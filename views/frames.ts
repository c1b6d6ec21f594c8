import { personOf } from '../lib/direct.ts';
import type { ChatMessage, Presence, ReplyQuote } from '../lib/chat-types.ts';
import { quoteWords } from './quote.ts';
import { renderMarkdown } from './markdown.ts';
import { renderMessage } from './message.tsx';
import { ndjsonLine, rawLine } from './plain-frames.ts';

export { isSse } from './plain-frames.ts';

/**
 * What a stream carries, in one place. Chat messages are unnamed events (`MessagePayload` in json); the named
 * ones are `presence` (`Presence`), `typing` (`TypingPayload`), `reset` (`ResetPayload`), `delete`
 * (`DeletePayload`), `edit` (`EditPayload`) and `bye` (`ByePayload`), the stream's last.
 */
/** SSE with JSON, HTML (the page) or terminal lines; `raw` and `ndjson` without SSE framing (views/plain-frames.ts). */
export type StreamFormat = 'json' | 'html' | 'text' | 'raw' | 'ndjson';
export type NamedEvent = 'presence' | 'typing' | 'reset' | 'bye' | 'delete' | 'edit';
/**
 * Why the server ended a stream (`closed`: the client went away, so no `bye` reaches it; `revoked`: the session or
 * the rights it was opened with ended, so a reconnect must sign in again; `done`: a `poll=1` stream sent what there
 * was, and ends without a `bye`).
 */
export type EndReason = 'slow' | 'error' | 'shutdown' | 'closed' | 'revoked' | 'done';
/**
 * `verified`: true for a signed-in sender's name, false for one an anonymous sender chose; absent where nobody signs in.
 * `edited`: when it was last edited, for a message that was (history, and a replay after the edit).
 */
/** `reply_to`: the message it answers (id, name, its first words), when it answers one. */
/** `person`: a signed-in sender's person key, for `GET /dm/KEY` (their direct room with you; lib/direct.ts). */
export type MessagePayload = Pick<ChatMessage, 'id' | 'room' | 'name' | 'text' | 'ts' | 'verified' | 'edited'> & { reply_to?: ReplyQuote; person?: string };
export interface ResetPayload {
  reason: 'gap' | 'unknown';
  after: string | null;
}
export interface ByePayload {
  reason: EndReason;
}
/** Someone in `room` is typing; a page shows it for a few seconds unless another one follows. */
export interface TypingPayload {
  room: string;
  name: string;
}

/**
 * One SSE frame. Every line of `data` gets its own `data:` field, so no payload can start a new field or event
 * (names and texts never hold a bare \r: input validation strips it).
 */
export function sseFrame(data: string, options: { id?: string; event?: NamedEvent } = {}): string {
  let frame = '';
  if (options.event) frame += `event: ${options.event}\n`;
  if (options.id !== undefined) frame += `id: ${options.id}\n`;
  for (const line of data.split('\n')) frame += `data: ${line}\n`;
  return frame + '\n';
}

const publicMessage = (m: ChatMessage): MessagePayload => ({
  id: m.id, room: m.room, name: m.name, text: m.text, ts: m.ts,
  ...(m.verified === undefined ? {} : { verified: m.verified }),
  ...(m.edited === undefined ? {} : { edited: m.edited }),
  ...(m.replyTo === undefined ? {} : { reply_to: m.replyTo }),
  ...personOf(m),
});

/**
 * The name as a terminal shows it: `~name` for a name an anonymous sender chose where others sign in (as IRC marks
 * an unverified user), so it never reads as a signed-in person's; a verified name, or any name where nobody signs
 * in, as it is.
 */
export const textName = (m: Pick<ChatMessage, 'name' | 'verified'>) => (m.verified === false ? `~${m.name}` : m.name);

/**
 * A terminal line: `[hh:mm:ss] name: text`, in the server's local time; continuation lines are indented. The name
 * is `textName`'s.
 */
export function textLine(m: ChatMessage): string {
  const t = new Date(m.ts);
  const hh = String(t.getHours()).padStart(2, '0');
  const mm = String(t.getMinutes()).padStart(2, '0');
  const ss = String(t.getSeconds()).padStart(2, '0');
  // A reply says what it answers first, as a quote would sit above it: `    ↳ ann: shall we meet…`.
  const quote = m.replyTo ? `    ↳ ${m.replyTo.name}: ${quoteWords(m.replyTo.text)}\n` : '';
  return `${quote}[${hh}:${mm}:${ss}] ${textName(m)}: ${m.text.replaceAll('\n', '\n    ')}`;
}

/** A chat message: unnamed (htmx 4 swaps only unnamed events; EventSource's onmessage sees only those). */
export function messageFrame(m: ChatMessage, format: StreamFormat): string {
  switch (format) {
    case 'json':
      return sseFrame(JSON.stringify(publicMessage(m)), { id: m.id });
    case 'html':
      return sseFrame(renderMessage(m), { id: m.id });
    case 'text':
      return sseFrame(textLine(m), { id: m.id });
    case 'raw':
      return rawLine(textLine(m));
    case 'ndjson':
      return ndjsonLine('message', m.id, publicMessage(m));
  }
}

/** A terminal line for one change (or none) with who is here now: `* bob joined; 2 here: alice, bob`. */
export function presenceLine(p: Presence, change: Presence['change'] = p.change): string {
  const who = p.members.length ? p.members.join(', ') : 'nobody named';
  const news = !change ? '' : change.kind === 'rename' ? `${change.from} is now ${change.name}; ` : `${change.name} ${change.kind === 'join' ? 'joined' : 'left'}; `;
  return `* ${news}${p.count} here: ${who}`;
}

/**
 * Presence as SSE. Events are coalesced (several changes may arrive together): json and html get one event
 * with `changes`; the text format gets one readable line, that is one event, per change.
 */
export function presenceFrame(p: Presence, format: StreamFormat): string {
  if (format === 'ndjson') return ndjsonLine('presence', undefined, p);
  const changes = p.changes ?? (p.change ? [p.change] : []);
  if (format === 'raw') return (changes.length ? changes : [null]).map((change) => rawLine(presenceLine(p, change))).join('');
  if (format !== 'text') return sseFrame(JSON.stringify(p), { event: 'presence' });
  if (changes.length <= 1) return sseFrame(presenceLine(p, changes[0] ?? null), { event: 'presence' });
  return changes.map((change) => sseFrame(presenceLine(p, change), { event: 'presence' })).join('');
}

/**
 * Someone is typing, for json and html streams (the page's script reads it as JSON). The text format carries no
 * typing events, so terminals stay quiet: its frame is empty, and a Worker writes nothing for an empty frame.
 */
export function typingFrame(t: TypingPayload, format: StreamFormat): string {
  if (format === 'ndjson') return ndjsonLine('typing', undefined, t);
  return format === 'text' || format === 'raw' ? '' : sseFrame(JSON.stringify(t satisfies TypingPayload), { event: 'typing' });
}

/**
 * Sent before a replay when the client's Last-Event-ID is older than what the store retains (`gap`: what is left
 * follows), or is not an id of this store at all (`unknown`: the recent history follows).
 */
export function resetFrame(after: string | null, format: StreamFormat, reason: ResetPayload['reason'] = 'gap'): string {
  if (format === 'ndjson') return ndjsonLine('reset', undefined, { reason, after } satisfies ResetPayload);
  const data = format === 'text' || format === 'raw'
    ? reason === 'gap'
      ? `* some messages after ${after} are no longer kept; showing what is left`
      : `* ${after} is not a message of this server (its history was reset); showing the recent history`
    : JSON.stringify({ reason, after } satisfies ResetPayload);
  return format === 'raw' ? rawLine(data) : sseFrame(data, { event: 'reset' });
}

/** The last event of a stream the server ends. */
export function byeFrame(reason: EndReason, format: StreamFormat): string {
  if (format === 'ndjson') return ndjsonLine('bye', undefined, { reason } satisfies ByePayload);
  if (format === 'raw') return rawLine(`* disconnected by the server (${reason})`);
  const data = format === 'text' ? `* disconnected by the server (${reason})` : JSON.stringify({ reason } satisfies ByePayload);
  return sseFrame(data, { event: 'bye' });
}

/** A message was deleted (`DELETE /rooms/:room/messages/:id`): pages remove it; history leaves it out from now on. */
export interface DeletePayload {
  room: string;
  id: string;
}

/** The deletion of a message: JSON for json and html streams (the page's script removes it), a line for text. */
export function deleteFrame(d: DeletePayload, format: StreamFormat): string {
  if (format === 'ndjson') return ndjsonLine('delete', undefined, d);
  if (format === 'raw') return rawLine(`* a message was deleted (${d.id})`);
  return sseFrame(format === 'text' ? `* a message was deleted (${d.id})` : JSON.stringify(d satisfies DeletePayload), { event: 'delete' });
}

/** A message was edited (`PATCH /rooms/:room/messages/:id`): pages show the new text; history has it from now on. */
export interface EditPayload {
  room: string;
  id: string;
  text: string;
  edited: number;
  /** html streams only: the new text as the page shows it (views/markdown.ts), which the page puts in place. */
  html?: string;
}

/** How much of an edited text the terminal line shows, in characters. */
const EDIT_PREVIEW = 60;

/** The terminal line of an edit: `* ann edited a message (ID): the new text, its first 60 characters…` on one line. */
export function editLine(m: ChatMessage): string {
  const chars = Array.from(m.text.replace(/\s+/g, ' ').trim());
  const preview = chars.length > EDIT_PREVIEW ? `${chars.slice(0, EDIT_PREVIEW).join('')}…` : chars.join('');
  return `* ${textName(m)} edited a message (${m.id}): ${preview}`;
}

/**
 * The edit of a message: JSON for json, html (the page's script applies it; with the rendered text as `html`) and
 * ndjson streams, a line for text.
 */
export function editFrame(m: ChatMessage, format: StreamFormat): string {
  const payload: EditPayload = { room: m.room, id: m.id, text: m.text, edited: m.edited ?? m.ts };
  if (format === 'ndjson') return ndjsonLine('edit', undefined, payload);
  if (format === 'raw') return rawLine(editLine(m));
  if (format === 'html') payload.html = renderMarkdown(m.text);
  return sseFrame(format === 'text' ? editLine(m) : JSON.stringify(payload), { event: 'edit' });
}
