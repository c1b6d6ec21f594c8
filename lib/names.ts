/**
 * Display names as people see them. Two names that render alike must be one name to the server, or an anonymous
 * `al\u200bice` or a Cyrillic `аlice` passes for the signed-in alice. So a name is normalised before anything
 * keeps or compares it, and compared by its look (a Unicode TR39 skeleton) where a signed-in name is at stake.
 */
import unhomoglyph from 'unhomoglyph';

// Nothing of these shows on screen: format characters (ZWSP, ZWJ, bidi controls, soft hyphen, BOM, ...) and the
// rest of Unicode's default-ignorables (variation selectors, Hangul fillers, tags), by property, so a new Unicode
// version brings its own. An emoji's ZWJ sequence falls apart into its emoji, which is the price of a clean name.
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
// Tabs, newlines, U+2028/2029 and the spaces NFKC leaves alone (U+1680) become one plain space.
const SPACE = /\s/gu;
// C0 and C1 controls (what is left of them once the whitespace among them became spaces).
const CONTROL = /\p{Cc}/gu;

/**
 * A name as the server keeps it: NFKC (fullwidth `ａｌｉｃｅ`, ligatures, compatibility forms become their plain
 * letters), every invisible character removed, controls removed, whitespace folded to single spaces, trimmed.
 * A lone surrogate (JSON can carry "\ud83d") becomes U+FFFD first: it has no UTF-8 form. Idempotent: a second pass
 * changes nothing (invisibles go before and after NFKC, as removing one may let its neighbours compose).
 */
export const normalizeName = (s: string): string =>
  s
    .toWellFormed()
    .replace(INVISIBLE, '')
    .normalize('NFKC')
    .replace(INVISIBLE, '')
    .replace(SPACE, ' ')
    .replace(CONTROL, '')
    .replace(/ {2,}/g, ' ')
    .trim();

/**
 * The TR39 skeleton (UTS #39, section 4): NFD, every character replaced by its prototype from Unicode's
 * confusables.txt (the `unhomoglyph` package carries that table), NFD again. Equal skeletons: confusable strings.
 */
const skeleton = (s: string) => unhomoglyph(s.normalize('NFD')).normalize('NFD');

/**
 * What a name looks like, case-insensitively: the skeleton of the normalised name in lower case, itself in lower
 * case (prototypes may be capitals: `0` maps to `O`). `ALICE`, `аlice` (Cyrillic а) and `ａｌｉｃｅ` give alice's.
 */
export const nameSkeleton = (s: string): string => skeleton(normalizeName(s).toLowerCase()).toLowerCase();

/**
 * The keys a name is compared by. Case folding and confusables do not commute: folded first, `ALICE` meets
 * `alice`; mapped first, `Iisa` (a capital I) meets `lisa`, as confusables.txt maps I to l. Two names whose keys
 * meet look alike.
 */
export const nameKeys = (s: string): string[] => {
  const folded = nameSkeleton(s);
  const exact = skeleton(normalizeName(s)).toLowerCase();
  return folded === exact ? [folded] : [folded, exact];
};

/** Whether two names could be taken for each other on screen. */
export const looksAlike = (a: string, b: string): boolean => {
  const keys = new Set(nameKeys(a));
  return nameKeys(b).some((k) => keys.has(k));
};
