/**
 * The two formats without SSE framing, for curl and scripts (as ntfy's /raw and /json): `raw` is exactly what
 * bin/chat shows, one line per event (`[hh:mm:ss] name: text`, `* …` for the rest), and `ndjson` one JSON object per
 * line, with its `event` and, for a message, its `id` (what `since=` takes to resume). Keep-alives: an empty line
 * in raw (as ntfy sends), `{"event":"keepalive"}` in ndjson, so every line stays a JSON object.
 */

/** A raw event: its text lines as they are ('' carries nothing: typing, for one). */
export const rawLine = (text: string) => (text === '' ? '' : `${text}\n`);

/** An ndjson event: the payload with its event type, and its id when it has one. */
export const ndjsonLine = (event: string, id: string | undefined, payload: object) =>
  `${JSON.stringify({ event, ...(id === undefined ? {} : { id }), ...payload })}\n`;

/** Whether a format is Server-Sent Events (the others are plain lines: no `retry:`, no `id:`, no comments). */
export const isSse = (format: string) => format !== 'raw' && format !== 'ndjson';

export const RAW_KEEPALIVE = '\n';
/**
 * The first bytes of a plain stream, as SSE's `retry:` line is of an SSE one: the response starts at once, even
 * in an empty room (ntfy's JSON stream opens with an `open` event likewise).
 */
export const RAW_OPEN = RAW_KEEPALIVE;
export const NDJSON_OPEN = '{"event":"open"}\n';
export const NDJSON_KEEPALIVE = '{"event":"keepalive"}\n';
