/**
 * Names as people see them (lib/names.ts): normalised before anything keeps them, and compared by their look, so
 * an anonymous `al\u200bice` or Cyrillic `аlice` cannot pass for a signed-in alice.
 */
import { describe, expect, it } from 'bun:test';
import fc from 'fast-check';
import { looksAlike, nameKeys, nameSkeleton, normalizeName } from '../../lib/names.ts';
import { nameSchema, newMessageSchema, streamQuerySchema } from '../../lib/input.ts';

describe('normalizeName', () => {
  it('applies NFKC: fullwidth letters, ligatures and compatibility spaces become plain ones', () => {
    expect(normalizeName('ａｌｉｃｅ')).toBe('alice');
    expect(normalizeName('ﬁona')).toBe('fiona');
    expect(normalizeName('Ⅸ')).toBe('IX');
    expect(normalizeName('a\u00a0\u3000b')).toBe('a b');
    expect(normalizeName('e\u0301')).toBe('é'); // composed
  });

  it('removes zero-width, bidi and other invisible format characters', () => {
    expect(normalizeName('al\u200bice')).toBe('alice');
    for (const invisible of ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u202e', '\u2066', '\u061c', '\u180e', '\u034f', '\ufe0f', '\u3164', '\u{e0041}']) {
      expect(normalizeName(`bo${invisible}b`), JSON.stringify(invisible)).toBe('bob');
    }
    expect(normalizeName('\u200b\u200d\u2060')).toBe('');
  });

  it('still folds whitespace, drops controls and trims, as names were cleaned before', () => {
    expect(normalizeName('  a \t\n b\r\n')).toBe('a b');
    expect(normalizeName('a\u0000b\u0007c\u009fd')).toBe('abcd');
    expect(normalizeName('\ud83d')).toBe('\ufffd');
  });

  it('is idempotent and leaves nothing invisible, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        const once = normalizeName(s);
        expect(normalizeName(once)).toBe(once);
        expect(/[\p{Cf}\p{Cc}\p{Default_Ignorable_Code_Point}]/u.test(once)).toBe(false);
        expect(once).toBe(once.trim());
      }),
      { numRuns: 2000 },
    );
  });
});

describe('nameSkeleton', () => {
  it('gives a Cyrillic look-alike the skeleton of the Latin name', () => {
    expect('\u0430lice').not.toBe('alice');
    expect(nameSkeleton('\u0430lice')).toBe(nameSkeleton('alice')); // а U+0430
    expect(nameSkeleton('\u0391LICE')).toBe(nameSkeleton('alice')); // Greek capital alpha
    expect(nameSkeleton('b\u043eb')).toBe(nameSkeleton('bob')); // о U+043E
  });

  it('compares case-insensitively, after normalising', () => {
    expect(nameSkeleton('ALICE')).toBe(nameSkeleton('alice'));
    expect(nameSkeleton('Alice')).toBe(nameSkeleton('alice'));
    expect(nameSkeleton('al\u200bice')).toBe(nameSkeleton('alice'));
    expect(nameSkeleton('ａｌｉｃｅ')).toBe(nameSkeleton('alice'));
  });

  it('keeps ordinary distinct names apart', () => {
    const names = ['alice', 'alicia', 'bob', 'bobby', 'carol', 'dave', 'eve', 'zoë', 'zoe', 'li', 'lu'];
    const skeletons = new Set(names.map(nameSkeleton));
    expect(skeletons.size).toBe(names.length);
    expect(looksAlike('alice', 'bob')).toBe(false);
    expect(looksAlike('alice', 'malice')).toBe(false);
  });

  it('matches what TR39 calls confusable in both orders of case and look', () => {
    expect(looksAlike('rn', 'm')).toBe(true);
    expect(looksAlike('bob0', 'bobo')).toBe(true); // 0 and o
    expect(looksAlike('Iisa', 'lisa')).toBe(true); // a capital I looks like l, which lower case alone would miss
    expect(looksAlike('\u0430lice', 'ALICE')).toBe(true);
    expect(nameKeys('alice')).toEqual(['alice']);
  });
});

describe('the name rules in lib/input.ts', () => {
  it('normalise every name a client sends', () => {
    expect(nameSchema.parse('al\u200bice')).toBe('alice');
    expect(newMessageSchema.parse({ name: 'ａｌ\u200dice', text: 'hi' }).name).toBe('alice');
    expect(streamQuerySchema.parse({ name: 'al\u2060ice' }).name).toBe('alice');
  });

  it('refuse a chosen name that is empty once normalised', () => {
    const invisible = nameSchema.safeParse('\u200b\u200b\u202e');
    expect(invisible.success).toBe(false);
    expect(invisible.error?.issues[0]?.message).toBe('name is empty');
  });

  it('count a name’s length after normalising', () => {
    expect(nameSchema.safeParse('a\u200b'.repeat(32)).success).toBe(true); // 32 letters once the ZWSPs go
    expect(nameSchema.safeParse('\ufdfa').success).toBe(true); // one character, 18 once NFKC spells it out
    expect(nameSchema.safeParse('\ufdfa'.repeat(2)).success).toBe(false); // 36
  });
});
