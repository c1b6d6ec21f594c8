import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { AppEnv } from '../middleware/app-env.ts';
import { fail } from '../lib/errors.ts';
import { valid } from '../lib/validate.ts';
import { eventIdSchema, firstIssue, historyQuerySchema, LIMITS, newMessageSchema, publicClient, roomPath, roomSchema } from '../lib/input.ts';
import type { ChatMessage } from '../lib/chat-types.ts';
import { may, type Who } from '../lib/identity.ts';
import { personOf } from '../lib/direct.ts';
import { messageBody, readBodyFields } from '../middleware/message-body.ts';
import { idempotencyKey } from '../middleware/idempotency-key.ts';
import { checkName, verifiedOf } from '../middleware/names.ts';
import { renderMessage } from '../views/message.tsx';
import { messageFrame } from '../views/frames.ts';
import { startOf } from './events.ts';
import { edgeOf, olderPageText, renderOlderPage } from '../views/older.tsx';
import { renderSearchResults } from '../views/search.tsx';

const params = valid('param', z.object({ room: roomSchema }));
const limit = bodyLimit({ maxSize: LIMITS.bodyBytes, onError: () => fail(413, `body is larger than ${LIMITS.bodyBytes} bytes`) });
const messageParams = valid('param', z.object({ room: roomSchema, id: eventIdSchema }));
/** An edit's body: its new text, cleaned and limited as a new message's is. */
const editSchema = z.object({ text: newMessageSchema.shape.text });

/** A message as clients see it in JSON: without its sender's key and author, its quote as `reply_to` (as in streams). */
/** A message as JSON answers show it: as the streams do (views/frames.ts), the author only as a person key. */
const shown = ({ client: _private, author, replyTo, ...m }: ChatMessage) => ({ ...m, ...(replyTo ? { reply_to: replyTo } : {}), ...personOf({ author }) });

/**
 * Whether `who` posted `message`: the same signed-in identity (its `author`), or, for an anonymous post, the client
 * key it was posted with (`key`, the request's X-Client-Id).
 */
const postedBy = (message: ChatMessage, who: Who, key: string | undefined) =>
  message.author !== undefined
    ? who.via !== 'anonymous' && message.author === who.id
    : message.client !== null && key !== undefined && publicClient(key) === message.client;

/** Posting messages and reading a room's history: JSON, or for older pages (scroll back) also HTML or text. */
export const messages = new Hono<AppEnv>()
  .post('/rooms/:room/messages', params, limit, messageBody, async (c) => {
    const { store, hub, config, logger } = c.get('deps');
    const { room } = c.req.valid('param');
    await checkName(c, c.get('message').name); // anonymous: not a signed-in person's name, nor a look-alike of it
    // Signed in, the name is the identity's; a name in the request counts only for the anonymous.
    const who = c.get('who');
    // The author is kept (never shown) so that a signed-in sender, and only they or an admin, may delete it.
    const { reply_to: answers, ...posted } = c.get('message');
    // A reply keeps what it answers (its sender and first words), read now from the same room.
    const original = answers === undefined ? null : await store.find(room, answers);
    if (answers !== undefined && !original) fail(422, `reply_to: there is no message ${answers} in #${room} (deleted, or never there)`);
    const replyTo = original ? { replyTo: { id: original.id, name: original.name, text: original.text.slice(0, 400) } } : {};
    const input = { ...posted, name: who.name ?? posted.name, ...verifiedOf(c), ...(who.via === 'anonymous' ? {} : { author: who.id }), ...replyTo };
    const key = c.get('idempotencyKey');
    // With a key: once per key and sender (the client id; none is a sender of its own), a retry answered alike.
    const { message: saved, replayed } = key
      ? await store.appendOnce({ room, ...input }, idempotencyKey(key, input.client ?? '', { room, ...input }))
      : { message: await store.append({ room, ...input }), replayed: false };
    if (replayed) c.header('Idempotent-Replayed', 'true');
    hub.renameMember(room, input.client, input.name);
    await hub.caughtUp(room); // answered once the room's streams keep up: a flood cannot queue ahead of them
    // What people write stays out of the logs unless the operator asks for it (--log-messages).
    if (config['log-messages']) logger.info('message', { room, id: saved.id, name: saved.name, text: saved.text });
    else logger.debug('message', { room, id: saved.id, chars: saved.text.length });
    const message = shown(saved);
    if (c.req.header('hx-request')) return c.html(renderMessage(saved), 201);
    // A browser without JavaScript posted the page's form: back to the room page.
    if (!c.req.header('accept')?.includes('application/json') && c.req.header('accept')?.includes('text/html')) {
      return c.redirect(`${roomPath(room)}${who.via === 'anonymous' && input.name !== 'anonymous' ? `?name=${encodeURIComponent(input.name)}` : ''}#m-${saved.id}`, 303); // ?name=: the form's name field keeps it
    }
    return c.json(message, 201);
  })
  .get(
    '/rooms/:room/messages',
    params,
    valid('query', historyQuerySchema),
    async (c) => {
      const { store, config } = c.get('deps');
      const { room } = c.req.valid('param');
      const { after: afterId, before, limit, format, since, q } = c.req.valid('query');
      if (q !== undefined) {
        // Search: the room's messages holding every word, newest first; the page's htmx search gets them as <li> links.
        const found = await store.search(room, q, limit);
        const as = format ?? (c.req.header('hx-request') ? 'html' : 'json');
        if (as === 'html') return c.html(renderSearchResults(room, { query: q, messages: found, limit }));
        if (as === 'text' || as === 'raw') return c.text(found.map((m) => messageFrame(m, 'raw')).join(''));
        if (as === 'ndjson') return c.body(found.map((m) => messageFrame(m, 'ndjson')).join(''), 200, { 'Content-Type': 'application/x-ndjson' });
        return c.json({ room, messages: found.map(shown), query: q });
      }
      const after = since ? await startOf(store, room, since) : afterId;
      if (before !== undefined) {
        const page = await store.before(room, before, limit);
        // htmx (the page's scroll-back sentinel) gets the messages and what is before them as <li> items.
        const as = format ?? (c.req.header('hx-request') ? 'html' : 'json');
        if (as === 'html') return c.html(renderOlderPage(room, page.messages, edgeOf(page), config.retention));
        if (as === 'ndjson') return c.body(page.messages.map((m) => messageFrame(m, 'ndjson')).join(''), 200, { 'Content-Type': 'application/x-ndjson' });
        if (as === 'text' || as === 'raw') {
          // bin/chat's /more: the next page back is the one before this header's id.
          if (page.messages[0]) c.header('X-Oldest-Id', page.messages[0].id);
          return c.text(olderPageText(room, page.messages, edgeOf(page), config.retention));
        }
        const list = page.messages.map(shown);
        // `trimmed`: nothing older is kept, and retention removed older messages (the room's start is gone).
        return c.json({ room, messages: list, more: page.more, gap: false, unknown: page.unknown ?? false, trimmed: page.trimmed });
      }
      const page = after === undefined
        ? { messages: await store.recent(room, limit), more: false, gap: false }
        : await store.since(room, after, limit);
      // Plain lines for curl and scripts: terminal lines (text, raw), or one JSON object per line (ndjson).
      if (format === 'text' || format === 'raw') return c.text(page.messages.map((m) => messageFrame(m, 'raw')).join(''));
      if (format === 'ndjson') return c.body(page.messages.map((m) => messageFrame(m, 'ndjson')).join(''), 200, { 'Content-Type': 'application/x-ndjson' });
      const list = page.messages.map(shown);
      // `unknown`: `after` is not an id of this store (it was reset since); the client should start again.
      return c.json({ room, messages: list, more: page.more, gap: page.gap, unknown: page.unknown ?? false });
    },
  )
  /**
   * Deletes a message: its author (the signed-in identity that posted it; for an anonymous post, the client key it
   * was posted with, in X-Client-Id) or an admin. Every stream of the room, on every instance, gets a `delete` event.
   */
  .delete('/rooms/:room/messages/:id', messageParams, async (c) => {
    const { store, logger } = c.get('deps');
    const { room, id } = c.req.valid('param');
    const who = c.get('who');
    const message = await store.find(room, id);
    if (!message) fail(404, `there is no message ${id} in #${room} (deleted already, or never there)`);
    if (!may(who, 'admin', room) && !postedBy(message, who, c.req.header('x-client-id'))) { // no admin in a direct room
      fail(403, message.author === undefined ? 'only the client that posted it (its X-Client-Id), or an admin, may delete this message' : 'only its author, or an admin, may delete this message');
    }
    await store.remove(room, id);
    logger.info('message deleted', { room, id, by: who.id });
    return c.body(null, 204);
  })
  /**
   * Edits a message's text (`{"text": …}`, a form, or a bare text body): only its author (as for a delete; an admin
   * may not edit someone else's words). Every stream of the room, on every instance, gets an `edit` event; the answer
   * is the message as edited.
   */
  .patch('/rooms/:room/messages/:id', messageParams, limit, async (c) => {
    const { store, config, logger } = c.get('deps');
    const { room, id } = c.req.valid('param');
    const parsed = editSchema.safeParse(await readBodyFields(c.req.raw, 'text', config['body-timeout']));
    if (!parsed.success) fail(422, firstIssue(parsed.error));
    const who = c.get('who');
    const message = await store.find(room, id);
    if (!message) fail(404, `there is no message ${id} in #${room} (deleted, or never there)`);
    if (!postedBy(message, who, c.req.header('x-client-id'))) {
      fail(403, message.author === undefined ? 'only the client that posted it (its X-Client-Id) may edit this message' : 'only its author may edit this message');
    }
    const edited = await store.edit(room, id, parsed.data.text);
    if (!edited) fail(404, `there is no message ${id} in #${room} (deleted, or never there)`); // deleted meanwhile
    if (config['log-messages']) logger.info('message edited', { room, id, by: who.id, text: edited.text });
    else logger.info('message edited', { room, id, by: who.id, chars: edited.text.length });
    return c.json(shown(edited));
  });
