import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from './app-env.ts';
import { fail } from '../lib/errors.ts';
import { firstIssue, LIMITS, newMessageSchema, type MessageInput } from '../lib/input.ts';
import { readIdempotencyKey } from './idempotency-key.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict percent-decoding of a form body: malformed escapes or invalid UTF-8 are errors, not U+FFFD. */
function parseForm(body: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const pair of body.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const decode = (s: string) => decodeURIComponent(s.replaceAll('+', ' '));
    try {
      fields.set(decode(eq < 0 ? pair : pair.slice(0, eq)), eq < 0 ? '' : decode(pair.slice(eq + 1)));
    } catch {
      fail(400, 'form body is not valid percent-encoded UTF-8');
    }
  }
  return fields;
}

/** The body, or a 408 when the client takes longer than `timeoutMs` to send it (a slow upload holds a socket). */
async function readBody(req: Request, timeoutMs: number): Promise<ArrayBuffer> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HTTPException(408, { res: Response.json({ error: `the body took longer than ${timeoutMs} ms to arrive` }, { status: 408 }) })), timeoutMs);
  });
  try {
    return await Promise.race([req.arrayBuffer(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What a body says, before validation: a JSON object, a form (multipart or urlencoded), or the whole body as the
 * one field a bare body means (`text` for a message, `name` for a rename). Any other content type is a 415.
 */
export async function readBodyFields(req: Request, bare: 'text' | 'name' | null, timeoutMs: number): Promise<Record<string, unknown>> {
  const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const bytes = new Uint8Array(await readBody(req, timeoutMs));
  if (bytes.length > LIMITS.bodyBytes) fail(413, `body is larger than ${LIMITS.bodyBytes} bytes`);
  if (type === 'multipart/form-data') {
    const form = await new Response(bytes, { headers: req.headers }).formData().catch(() => fail(400, 'malformed multipart body'));
    const fields: Record<string, string> = {};
    for (const key of new Set(form.keys())) {
      const value = form.get(key); // the first of a repeated field; a file is no field
      if (typeof value === 'string') fields[key] = value;
    }
    return fields;
  }
  let body: string;
  try {
    body = utf8.decode(bytes);
  } catch {
    fail(400, 'body is not valid UTF-8');
  }
  if (type === 'application/json' || type.endsWith('+json')) {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      fail(400, 'body is not valid JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(422, `JSON body must be an object like ${bare === 'text' ? '{"name": "...", "text": "..."}' : bare === 'name' ? '{"name": "..."}' : '{"field": "..."}'}`);
    return Object.fromEntries(Object.entries(value));
  }
  if (type === 'application/x-www-form-urlencoded') {
    // `curl -d 'hello'` sends a bare body with this type: without the field it means, the whole body is that
    // field, and a bare `%` in it ("100% sure") is no malformed form.
    if (bare === null) return Object.fromEntries(parseForm(body)); // a form and nothing else (the sign-in)
    const form = new RegExp(`(?:^|&)${bare}=`).test(body) ? parseForm(body) : new Map<string, string>();
    if (form.has(bare)) return Object.fromEntries(form);
    return { [bare]: body };
  }
  if (type === '' || type.startsWith('text/')) return bare === null ? {} : { [bare]: body };
  fail(415, `content type ${type} is not accepted; send JSON, a form, or text/plain`);
}

/**
 * Parses and validates a new message; the query's `name` and `client` fill what the body leaves out. Its
 * idempotency key comes from the `Idempotency-Key` header, else from an `idempotency_key` field (the page's form
 * without JavaScript carries one per page it was rendered in).
 */
export const messageBody = createMiddleware<AppEnv & { Variables: { message: MessageInput; idempotencyKey: string | null } }>(async (c, next) => {
  const fields = await readBodyFields(c.req.raw, 'text', c.get('deps').config['body-timeout']);
  const client = fields.client ?? c.req.header('x-client-id') ?? c.req.query('client');
  const parsed = newMessageSchema.safeParse({ ...fields, name: fields.name ?? c.req.query('name'), client });
  if (!parsed.success) fail(422, firstIssue(parsed.error));
  const field = fields.idempotency_key;
  c.set('idempotencyKey', readIdempotencyKey(c.req.header('idempotency-key') ?? (typeof field === 'string' ? field : undefined)));
  c.set('message', parsed.data);
  await next();
});
