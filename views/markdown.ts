import MarkdownIt from 'markdown-it';

/**
 * A message's text as the page shows it: Markdown by markdown-it, on the server, so the page's CSP stays strict and
 * its scripts parse no markup. Raw HTML off (every `<` someone typed is text), and only what a chat needs: bold,
 * italic, inline code, fenced and indented code blocks, links (bare http(s) URLs too), lists, and a line break per
 * line. Off: headings (a line starting with `#` is a line), rules, tables, quotes, strikethrough, reference
 * definitions (a `[1]: url` line stays on the page), images (they would load other sites' content into the room;
 * `![alt](url)` is `!` and a link), entities (`&lt;` shows as typed), typographer replacements. Links go only to
 * http, https and mailto URLs (anything else stays as typed) and open in a new tab with `nofollow noopener
 * noreferrer`. The json, text, raw and ndjson formats carry the raw text (views/frames.ts).
 */
const md = new MarkdownIt('default', { html: false, linkify: true, breaks: true, typographer: false });
md.disable(['heading', 'lheading', 'hr', 'table', 'blockquote', 'reference', 'html_block', 'html_inline', 'image', 'strikethrough', 'entity']);
// Bare URLs only with their scheme: `README.md`, `example.com` or an address are not links; no ftp: or //host. A
// URL is linked up to 2048 characters: with linkify-it's 10,000 its pattern took 80 ms over a 4000-character URL on
// Bun (JavaScriptCore), and the server renders every message of a history again for each stream that opens.
md.linkify.set({ fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false, maxLength: 2048 }).add('ftp:', null).add('//', null);

/** The only schemes a link may have (markdown-it passes the URL normalised: decoded entities, percent-encoded). */
const SAFE_URL = /^(?:https?:\/\/|mailto:)/i;
md.validateLink = (url) => SAFE_URL.test(url);

type LinkEnv = { unlinked?: boolean };
md.renderer.rules.link_open = (tokens, idx, options, rendering, self) => {
  const link = tokens[idx]!;
  const env = rendering as LinkEnv;
  // markdown-it keeps a link that has no URL (`[x]()`) with an empty href: its text stays, unlinked, and so does
  // its closing tag's place (links do not nest: one flag is enough).
  env.unlinked = !SAFE_URL.test(String(link.attrGet('href') ?? ''));
  if (env.unlinked) return '';
  link.attrSet('target', '_blank');
  link.attrSet('rel', 'nofollow noopener noreferrer');
  return self.renderToken(tokens, idx, options);
};
md.renderer.rules.link_close = (tokens, idx, options, rendering, self) => {
  const env = rendering as LinkEnv;
  if (!env.unlinked) return self.renderToken(tokens, idx, options);
  env.unlinked = false;
  return '';
};

/**
 * The HTML of a message's text: paragraphs, lists and code blocks, everything typed escaped, with no newline at the
 * end (a page that reads the element's text gets the message back). Safe to put in the page as it is.
 */
export function renderMarkdown(text: string): string {
  const html = md.render(text, {}).replace(/\n$/, '');
  return html || `<p>${md.utils.escapeHtml(text)}</p>`;
}
