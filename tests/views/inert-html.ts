/**
 * What the page's Markdown (views/markdown.ts) may ever write, checked without its code: the tags and attributes of
 * an allow-list, links to http, https and mailto only, and no `<` or `>` outside a tag. Used by the unit tests and
 * the SSE fuzz test.
 */
import { expect } from 'bun:test';

const TAGS = new Set(['p', 'br', 'strong', 'em', 'code', 'pre', 'ul', 'ol', 'li', 'a']);
const ATTRIBUTES: Record<string, RegExp> = {
  href: /^(?:https?:\/\/|mailto:)/i,
  target: /^_blank$/,
  rel: /^nofollow noopener noreferrer$/,
  class: /^language-[^"]*$/,
  start: /^\d+$/,
  title: /^[^"]*$/,
};
const TAG = /<(\/?)([a-z]+)((?:\s+[a-z]+="[^"]*")*)\s*>/g;

/** Fails unless `html` holds only allowed tags with allowed attributes, and nothing else that a browser reads as markup. */
export function expectInert(html: string): void {
  for (const [, , name, attributes] of html.matchAll(TAG)) {
    expect(TAGS).toContain(name!);
    for (const [, key, value] of attributes!.matchAll(/\s+([a-z]+)="([^"]*)"/g)) {
      expect(Object.keys(ATTRIBUTES)).toContain(key!);
      expect(value!).toMatch(ATTRIBUTES[key!]!);
    }
  }
  expect(html.replace(TAG, '')).not.toMatch(/[<>]/);
  // Every & starts an entity (what was typed is escaped, never half-markup).
  expect(html.replace(TAG, '')).not.toMatch(/&(?!(?:amp|lt|gt|quot|#39);)/);
}
