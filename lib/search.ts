/**
 * Words for search, the same in every store: a text folded (NFKC, lower case, Latin accents and the final sigma
 * aside) and cut into runs of letters, digits and private-use characters, everything else a separator. That is how
 * SQLite's FTS5 `unicode61 remove_diacritics 2` tokenizer reads a text (store/sqlite-search.ts), so the memory and
 * Redis stores, which match in JavaScript, find what SQLite finds.
 */

/** The most words a search keeps (a 200-character query holds at most 100). */
const MAX_WORDS = 100;

const fold = (text: string) =>
  text.normalize('NFKC').toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/ς/g, 'σ').normalize('NFC');

const wordsOf = (text: string): string[] => fold(text).match(/[\p{L}\p{N}\p{Co}]+/gu) ?? [];

/** A query's words, folded, each once, in order (none: a query with nothing to search for). */
export function searchWords(query: string): string[] {
  return [...new Set(wordsOf(query))].slice(0, MAX_WORDS);
}

/** Whether every one of `words` (searchWords of a query) starts a word of `text`; false for no words. */
export function holdsWords(text: string, words: readonly string[]): boolean {
  if (words.length === 0) return false;
  const own = wordsOf(text);
  return words.every((w) => own.some((o) => o.startsWith(w)));
}
