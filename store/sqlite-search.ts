/**
 * Search on SQLite: the FTS5 index of the messages' text (`messages_fts`, made and kept by sqlite-schema.ts), read
 * on the main thread's connection. No user input is FTS5 syntax: the query's words (lib/search.ts) go in as FTS5
 * strings, each in double quotes with any quote inside doubled, and a `*` after each, which FTS5 reads as "a word
 * that starts with this string". So `"`, `*`, `NEAR(`, `OR` or `text:` in a query are words or separators, never
 * operators, and never an error.
 */
import { searchWords } from '../lib/search.ts';
import type { ChatMessage } from '../lib/chat-types.ts';
import type { SqlDatabase } from './sqlite-driver.ts';
import type { Row } from './sqlite-schema.ts';

/** The FTS5 query that finds messages holding every word: each word as a prefix string, all of them required. */
export const ftsQuery = (words: readonly string[]) => words.map((w) => `"${w.replaceAll('"', '""')}" *`).join(' ');

/** Store.search on SQLite: the index's matches in `room`, newest first (by rowid, which is the message id). */
export function createSqliteSearch(db: SqlDatabase, toMessage: (row: Row) => ChatMessage) {
  const matching = db.prepare<Row, [string, string, number]>(
    `SELECT messages.* FROM messages_fts JOIN messages ON messages.id = messages_fts.rowid
     WHERE messages_fts MATCH ? AND messages.room = ? ORDER BY messages_fts.rowid DESC LIMIT ?`,
  );
  return async (room: string, query: string, limit: number): Promise<ChatMessage[]> => {
    const words = searchWords(query);
    return words.length && limit > 0 ? matching.all(ftsQuery(words), room, limit).map(toMessage) : [];
  };
}
