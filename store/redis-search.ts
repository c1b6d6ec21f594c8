/**
 * Search on Redis: the room's stream read newest first (XREVRANGE, a page at a time, never past what the room keeps:
 * its retention), each page with its edits laid over it as every read does (redis-edits.ts), keeping the messages
 * that hold every word of the query (lib/search.ts, as the memory store matches), until `limit` are found.
 */
import type Redis from 'ioredis';
import { holdsWords, searchWords } from '../lib/search.ts';
import { unavailableOnFailure } from './redis-connection.ts';
import { parseEntry } from './redis-tail.ts';
import type { ChatMessage } from '../lib/chat-types.ts';

/** Entries read per round trip. */
const PAGE = 500;

export interface SearchOptions {
  commands: Redis;
  room: (room: string) => string;
  edits: (room: string) => string;
  /** The edits of a room laid over its messages (`edited`: how many the room's hash holds; 0, no second read). */
  overlay: (room: string, messages: ChatMessage[], edited?: number) => Promise<ChatMessage[]>;
  /** Messages kept per room: MAXLEN ~ keeps up to a node (100) more, and no page is read past that. */
  retention: number;
}

export function createRedisSearch({ commands, room: roomKey, edits: editsKey, overlay, retention }: SearchOptions) {
  return async (room: string, query: string, limit: number): Promise<ChatMessage[]> => {
    const words = searchWords(query);
    const found: ChatMessage[] = [];
    let end = '+';
    for (let read = 0; words.length > 0 && found.length < limit && read < retention + 100; ) {
      const [[rangeError, entries], [, edited]] = await unavailableOnFailure('search', async () => {
        const result = await commands.multi().call('XREVRANGE', roomKey(room), end, '-', 'COUNT', String(PAGE)).call('HLEN', editsKey(room)).exec();
        if (!result) throw new Error('transaction aborted');
        return result as [[Error | null, unknown], [Error | null, unknown]];
      });
      if (rangeError) throw rangeError;
      const page = entries as [string, string[]][];
      const messages = await overlay(room, page.map((entry) => parseEntry(entry).message), Number(edited ?? 0));
      for (const m of messages) if (found.length < limit && holdsWords(m.text, words)) found.push(m);
      if (page.length < PAGE) break;
      read += page.length;
      end = `(${page.at(-1)![0]}`; // exclusive: the next page starts just before the oldest of this one
    }
    return found;
  };
}
