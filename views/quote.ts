/** How much of an answered message a quote shows: its first words, on one line. */
const QUOTE_CHARS = 60;

/** The start of a quoted text, on one line, cut at a word with `…` when longer than QUOTE_CHARS. */
export function quoteWords(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if ([...line].length <= QUOTE_CHARS) return line;
  const cut = [...line].slice(0, QUOTE_CHARS).join('');
  const space = cut.lastIndexOf(' ');
  return `${(space > QUOTE_CHARS / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}
