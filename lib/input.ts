/** Validation of everything a client sends: rooms, names, texts, client ids, stream options. */
import { z } from 'zod';
import { digestOf } from './secrets.ts';
import { normalizeName } from './names.ts';
import { searchWords } from './search.ts';

export const LIMITS = { name: 32, text: 4000, room: 64, client: 64, bodyBytes: 64 * 1024, search: 200 } as const;

// C0 and C1 controls, DEL, and the bidi overrides that can disguise text; \n and \t are handled per field.
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

// Both begin with toWellFormed(): a lone surrogate (JSON can carry "\ud83d") has no UTF-8 form; it becomes U+FFFD
// here, as SQLite would store it anyway, so every backend and every stream format shows the same text.
/**
 * A single-line name, normalised (lib/names.ts): NFKC, invisible characters and controls removed, spaces folded,
 * trimmed. Every name a client sends goes through it, so `al\u200bice` is `alice` before anything compares it.
 */
export const cleanName = normalizeName;
/** A message text: \r\n and \r become \n, tabs and newlines stay, other controls go, outer blank lines trimmed. */
export const cleanText = (s: string) => s.toWellFormed().replace(/\r\n?/g, '\n').replace(CONTROLS, '').replace(/^\s*\n|\s+$/g, '');

/**
 * A room's name: letters of any script (with their marks), digits, `_` and `-`, 1-64 characters, in NFC and lower
 * case, so `General`, `ŁÓDŹ` and a decomposed `łódź` name one room each. URLs carry it percent-encoded. The one rule
 * for every route, the page's switcher (routes/page.ts roomSlug) and links.
 */
export const normalizeRoom = (room: string) => room.normalize('NFC').toLowerCase();
export const ROOM_CHARS = /^[\p{L}\p{M}\p{N}_-]{1,64}$/u;
export const ROOM_RULE = 'room must be 1-64 letters (of any script), digits, _ or -';
export const roomSchema = z.string().transform(normalizeRoom).pipe(z.string().regex(ROOM_CHARS, ROOM_RULE));
/** A room's path in a URL: `/rooms/` and the name percent-encoded (a Location header takes ASCII only). */
export const roomPath = (room: string) => `/rooms/${encodeURIComponent(room)}`;
/** A client id as the server passes it around: the public form of a client's key (below), or an older one. */
export const clientSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'client id must be 1-64 of A-Z, a-z, 0-9, _ and -');

/**
 * A client's id as a client sends it (`X-Client-Id`, `client=`) is its secret: the key of its streams. The server
 * keeps and shows only its digest (`c` and 22 base64url characters), which is what streams, presence and messages
 * carry. So an id seen anywhere (a log, /status, another instance's presence) cannot be sent back as someone's
 * key: renaming a stream, typing as it, or posting so that its own stream hides the post all need the key itself.
 * The page and bin/chat make one of 128 random bits per tab or run.
 */
export const publicClient = (key: string) => `c${digestOf(key).slice(0, 22)}`;
export const clientKeySchema = clientSchema.transform(publicClient);
/** Store ids: integers (SQLite, memory) or Redis stream ids. */
const STORE_ID = /^\d{1,20}(-\d{1,20})?$/;
export const eventIdSchema = z.string().regex(STORE_ID, 'Last-Event-ID must be an id this server sent');

/** A name someone chooses (a rename): cleaned like any name, and not empty. */
export const nameSchema = z
  .string({ error: 'name is missing' })
  .transform(cleanName)
  .pipe(z.string().min(1, 'name is empty').max(LIMITS.name, `name is longer than ${LIMITS.name} characters`));

const name = z
  .string()
  .transform(cleanName)
  .pipe(z.string().max(LIMITS.name, `name is longer than ${LIMITS.name} characters`))
  .transform((s) => s || 'anonymous');

export const newMessageSchema = z.object({
  name: z.string().optional().default('anonymous').pipe(name),
  text: z
    .string({ error: 'text is missing' })
    .transform(cleanText)
    .pipe(z.string().min(1, 'text is empty').max(LIMITS.text, `text is longer than ${LIMITS.text} characters`)),
  client: clientKeySchema.nullable().optional().default(null),
  /** The id of the message this one answers, in the same room. */
  reply_to: z.preprocess((v) => (v === '' ? undefined : v), z.string().regex(STORE_ID, 'reply_to must be the id of a message in the room').optional()),
});
export type MessageInput = z.infer<typeof newMessageSchema>;

/** `since=`: an id, a duration back from now (`30s`, `10m`, `2h`, `7d`), or `all`. */
const SINCE = /^(all|\d{1,20}(-\d{1,20})?|\d{1,6}[smhd])$/;
export type Since = { id: string } | { ms: number } | { all: true };
const sinceSchema = z
  .string()
  .regex(SINCE, 'since must be an id, a duration such as 10m, 2h or 7d, or all')
  .transform((s): Since => {
    if (s === 'all') return { all: true };
    const duration = /^(\d+)([smhd])$/.exec(s);
    return duration ? { ms: Number(duration[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as 's' | 'm' | 'h' | 'd'] } : { id: s };
  });
const pollSchema = z.enum(['1', 'true', '0', 'false'], { error: 'poll must be 1 or 0' }).transform((v) => v === '1' || v === 'true');

export const streamQuerySchema = z.object({
  format: z.enum(['json', 'html', 'text', 'raw', 'ndjson'], { error: 'format must be json, html, text, raw or ndjson' }).default('json'),
  since: sinceSchema.optional(),
  poll: pollSchema.optional(),
  history: z.coerce.number().int().min(0).max(1000, 'history is at most 1000').optional(),
  lastEventId: eventIdSchema.optional(),
  client: clientKeySchema.optional(),
  name: z.string().optional().pipe(name.optional()),
  fault: z.enum(['throw', 'stall']).optional(),
});

/** `q=`: the words to search a room for (lib/search.ts), spaces folded and trimmed, 1-200 characters, a word at least. */
export const searchQuerySchema = z
  .string()
  .transform((s) => s.toWellFormed().replace(CONTROLS, '').replace(/\s+/g, ' ').trim())
  .pipe(
    z.string()
      .min(1, 'q is empty: give the words to search for')
      .max(LIMITS.search, `q is longer than ${LIMITS.search} characters`)
      .refine((s) => searchWords(s).length > 0, 'q has no word to search for (letters or digits)'),
  );

export const historyQuerySchema = z
  .object({
    after: eventIdSchema.optional(),
    before: z.string().regex(STORE_ID, 'before must be the id of a message this server sent').optional(),
    limit: z.coerce.number().int().min(1, 'limit must be at least 1').max(1000, 'limit is at most 1000').default(100),
    since: sinceSchema.optional(),
    format: z.enum(['json', 'html', 'text', 'raw', 'ndjson'], { error: 'format must be json, html, text, raw or ndjson' }).optional(),
    q: searchQuerySchema.optional(),
  })
  .refine((q) => [q.after, q.before, q.since].filter((v) => v !== undefined).length <= 1, {
    error: 'give one of after= (newer than an id), since= (an id, a duration or all) or before= (older than an id)',
  })
  .refine((q) => q.q === undefined || [q.after, q.before, q.since].every((v) => v === undefined), {
    error: 'q= searches the whole room: not with after=, before= or since=',
  })
  .refine((q) => q.before !== undefined || q.q !== undefined || q.format !== 'html', {
    error: 'format=html is for before= pages (the page scrolling back) and q= searches; other history is json, text, raw or ndjson',
  });

/** The first problem zod found, as one sentence. */
export const firstIssue = (error: { issues: readonly { message: string; path: readonly PropertyKey[] }[] }) => {
  const issue = error.issues[0];
  if (!issue) return 'invalid input';
  const where = issue.path.length ? `${issue.path.map(String).join('.')}: ` : '';
  return issue.message.includes(' ') ? issue.message : `${where}${issue.message}`;
};
