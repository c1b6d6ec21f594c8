/**
 * Editing a message on Redis. A stream entry cannot change, so each room keeps its edits in a hash beside its
 * stream (`edits:<room>`: id → `{"text", "edited"}`) that every read lays over the entries it returns. One script
 * checks that the entry is there, writes the edit and tells every instance on a channel (the notice carries the
 * entry's fields and the edit, so each instance renders the `edit` event without another read). An instance cut off
 * from Redis while the notice went out misses it: its pages show the old text until they load the history again.
 * The hash is pruned of ids older than the room's first entry once it holds more fields than twice the room's
 * retention and 200 (MAXLEN ~ keeps a node of entries, 100, past the retention: a hash within what the stream
 * holds is never scanned).
 */
import type Redis from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../lib/logger.ts';
import { createEmitter } from './emitter.ts';
import { defineScript, unavailableOnFailure } from './redis-connection.ts';
import { parseEntry } from './redis-tail.ts';
import type { ChatMessage } from '../lib/chat-types.ts';

/**
 * KEYS: room stream, its edits hash. ARGV: id, text, channel, the most fields the hash keeps before pruning. The
 * notice (also the reply), or nil when the entry is not there (nothing is written or told). `edited` is Redis's
 * clock, as a message's `ts` is (its id), and never before that `ts`.
 */
const EDIT_LUA = `
local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])[1]
if not entry then return false end
local now = redis.call('TIME')
local edited = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local ts = tonumber(string.match(ARGV[1], '^(%d+)'))
if edited < ts then edited = ts end
local edit = cjson.encode({text = ARGV[2], edited = edited})
redis.call('HSET', KEYS[2], ARGV[1], edit)
if redis.call('HLEN', KEYS[2]) > tonumber(ARGV[4]) then
  local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  local fms, fseq = string.match(first[1], '^(%d+)-(%d+)$')
  fms, fseq = tonumber(fms), tonumber(fseq)
  for _, field in ipairs(redis.call('HKEYS', KEYS[2])) do
    local ms, seq = string.match(field, '^(%d+)-(%d+)$')
    ms, seq = tonumber(ms), tonumber(seq)
    if ms == nil or ms < fms or (ms == fms and seq < fseq) then redis.call('HDEL', KEYS[2], field) end
  end
end
local notice = cjson.encode({id = ARGV[1], fields = entry[2], edit = edit})
redis.call('PUBLISH', ARGV[3], notice)
return notice
`;

const editSchema = z.object({ text: z.string(), edited: z.number() });
const noticeSchema = z.object({ id: z.string().max(64), fields: z.array(z.string()), edit: z.string() });

/** A message with its edit laid over it (an edit that cannot be read leaves the message as stored). */
function withEdit(message: ChatMessage, raw: string | null | undefined): ChatMessage {
  if (!raw) return message;
  let parsed;
  try {
    parsed = editSchema.safeParse(JSON.parse(raw));
  } catch {
    return message;
  }
  return parsed.success ? { ...message, text: parsed.data.text, edited: parsed.data.edited } : message;
}

/** The message a notice (or the script's reply) describes, as edited; null when it cannot be read. */
function fromNotice(raw: string): ChatMessage | null {
  let parsed;
  try {
    parsed = noticeSchema.safeParse(JSON.parse(raw));
  } catch {
    return null;
  }
  if (!parsed.success) return null;
  const edited = withEdit(parseEntry([parsed.data.id, parsed.data.fields]).message, parsed.data.edit);
  return edited.edited === undefined ? null : edited;
}

export interface EditsOptions {
  commands: Redis;
  subscriber: Redis;
  room: (room: string) => string;
  edits: (room: string) => string;
  channel: string;
  /** Messages kept per room: the hash is pruned past twice this many edits (and 200). */
  retention: number;
  logger?: Logger;
}

export async function createRedisEdits({ commands, subscriber, room: roomKey, edits: editsKey, channel, retention, logger }: EditsOptions) {
  const editScript = defineScript(commands, 'threadchatEdit', EDIT_LUA, 2);
  const edits = createEmitter<ChatMessage>();
  let warned = false;
  const hear = (on: string, raw: string) => {
    if (on !== channel) return;
    const message = fromNotice(raw);
    if (message) return edits.emit(message);
    if (!warned) logger?.warn('Ignored an edit notice that cannot be read', { channel });
    warned = true;
  };
  subscriber.on('message', hear);
  await subscriber.subscribe(channel);

  return {
    /** The message `id` of `room` as edited, or null: its entry and its edit read in one transaction. */
    async find(room: string, id: string): Promise<ChatMessage | null> {
      if (!/^\d{1,20}-\d{1,20}$/.test(id)) return null;
      const replies = await unavailableOnFailure('find', async () => {
        const result = await commands.multi().call('XRANGE', roomKey(room), id, id).call('HGET', editsKey(room), id).exec();
        if (!result) throw new Error('transaction aborted');
        return result;
      });
      const [rangeError, entries] = replies[0]!;
      if (rangeError) throw rangeError;
      const entry = (entries as [string, string[]][])[0];
      return entry ? withEdit(parseEntry(entry).message, replies[1]![1] as string | null) : null;
    },
    async edit(room: string, id: string, text: string): Promise<ChatMessage | null> {
      if (!/^\d{1,20}-\d{1,20}$/.test(id)) return null;
      const reply = await unavailableOnFailure('edit', () => editScript(roomKey(room), editsKey(room), id, text, channel, String(2 * retention + 200)));
      return typeof reply === 'string' ? fromNotice(reply) : null;
    },
    /**
     * `messages` of `room` with their edits laid over them. `edited`: how many edits the room's hash holds, when the
     * caller read it with the messages (0: none, and no second read).
     */
    async overlay(room: string, messages: ChatMessage[], edited = 1): Promise<ChatMessage[]> {
      if (messages.length === 0 || edited === 0) return messages;
      const found = (await unavailableOnFailure('edits', () => commands.call('HMGET', editsKey(room), ...messages.map((m) => m.id)))) as (string | null)[];
      return messages.map((m, i) => withEdit(m, found[i]));
    },
    onEdited: (listener: (message: ChatMessage) => void) => edits.subscribe(listener),
    async close() {
      subscriber.off('message', hear);
      await subscriber.unsubscribe(channel).catch(() => {});
    },
  };
}
