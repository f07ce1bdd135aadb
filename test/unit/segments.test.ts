import { describe, it, expect } from 'vitest';
import { MAX_SMS_SEGMENTS, assertWithinMaxSegments, measureSms, splitSms } from '../../shared/domain/segments.js';
import { caught } from '../support/expect-error.js';

const BANGLA = 'আপনার বিল ৫০০ টাকা বকেয়া';

describe('measureSms with GSM-7 text', () => {
  it('counts empty text as 0 characters and 0 segments', () => {
    expect(measureSms('')).toEqual({ encoding: 'GSM-7', characters: 0, segments: 0 });
    expect(splitSms('')).toEqual([]);
  });

  it('fits 160 plain characters in one segment', () => {
    expect(measureSms('a'.repeat(160))).toEqual({ encoding: 'GSM-7', characters: 160, segments: 1 });
  });

  it('needs two segments for 161 plain characters', () => {
    expect(measureSms('a'.repeat(161))).toEqual({ encoding: 'GSM-7', characters: 161, segments: 2 });
  });

  it('fits 306 characters in two segments of 153 and needs three for 307', () => {
    expect(measureSms('a'.repeat(306)).segments).toBe(2);
    expect(measureSms('a'.repeat(307)).segments).toBe(3);
  });

  it('treats the whole default alphabet, including accented letters and Greek capitals, as GSM-7', () => {
    const text = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà';
    expect(measureSms(text)).toEqual({ encoding: 'GSM-7', characters: [...text].length, segments: 1 });
  });

  it('counts each extension character as two septets', () => {
    expect(measureSms('€')).toEqual({ encoding: 'GSM-7', characters: 2, segments: 1 });
    expect(measureSms('^{}\\[]~|€\f').characters).toBe(20);
  });

  it('fits 80 curly braces (160 septets) in one segment and needs two for 81', () => {
    expect(measureSms('{'.repeat(80))).toEqual({ encoding: 'GSM-7', characters: 160, segments: 1 });
    expect(measureSms('{'.repeat(81))).toEqual({ encoding: 'GSM-7', characters: 162, segments: 2 });
  });

  it('moves an escape pair that would straddle the 153-septet boundary to the next part', () => {
    // 152 + 2 + 152 = 306 septets would fit in 2 × 153 if the pair could be split; it cannot.
    const text = 'a'.repeat(152) + '€' + 'b'.repeat(152);
    expect(measureSms(text)).toEqual({ encoding: 'GSM-7', characters: 306, segments: 3 });
    const parts = splitSms(text);
    expect(parts).toEqual(['a'.repeat(152), '€' + 'b'.repeat(151), 'b']);
    expect(parts.map((p) => measureSms(p).characters)).toEqual([152, 153, 1]);
  });

  it('keeps an escape pair that ends exactly on the boundary in the same part', () => {
    const text = 'a'.repeat(151) + '€' + 'b'.repeat(153);
    expect(measureSms(text)).toEqual({ encoding: 'GSM-7', characters: 306, segments: 2 });
    expect(splitSms(text)).toEqual(['a'.repeat(151) + '€', 'b'.repeat(153)]);
  });
});

describe('measureSms with UCS-2 text', () => {
  it('fits 70 code units in one segment and needs two for 71', () => {
    expect(measureSms('আ'.repeat(70))).toEqual({ encoding: 'UCS-2', characters: 70, segments: 1 });
    expect(measureSms('আ'.repeat(71))).toEqual({ encoding: 'UCS-2', characters: 71, segments: 2 });
  });

  it('fits 134 code units in two segments of 67 and needs three for 135', () => {
    expect(measureSms('আ'.repeat(134)).segments).toBe(2);
    expect(measureSms('আ'.repeat(135)).segments).toBe(3);
  });

  it('counts Bangla text in UTF-16 code units, one per letter or sign', () => {
    expect(measureSms(BANGLA)).toEqual({ encoding: 'UCS-2', characters: 25, segments: 1 });
  });

  it('counts an emoji as two code units', () => {
    expect(measureSms('😀')).toEqual({ encoding: 'UCS-2', characters: 2, segments: 1 });
  });

  it('makes 69 letters plus an emoji 71 code units and two segments', () => {
    expect(measureSms('a'.repeat(69) + '😀')).toEqual({ encoding: 'UCS-2', characters: 71, segments: 2 });
  });

  it('never splits a surrogate pair across two parts', () => {
    // 66 + 2 + 66 = 134 units would fit in 2 × 67 if the emoji could be split; it cannot.
    const text = 'আ'.repeat(66) + '😀' + 'আ'.repeat(66);
    expect(measureSms(text)).toEqual({ encoding: 'UCS-2', characters: 134, segments: 3 });
    const parts = splitSms(text);
    expect(parts.map((p) => p.length)).toEqual([66, 67, 1]);
    expect(parts[1]?.startsWith('😀')).toBe(true);
    for (const part of parts) expect(part).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
  });

  it('switches a whole Latin text to UCS-2 when it contains a single Bangla character', () => {
    const text = 'Your bill of 500 Tk is due' + 'ট';
    expect(measureSms(text)).toEqual({ encoding: 'UCS-2', characters: 27, segments: 1 });
    expect(measureSms('Dear customer, '.repeat(10) + 'ট')).toEqual({ encoding: 'UCS-2', characters: 151, segments: 3 });
  });

  it('treats a lowercase ç, which is not in the default alphabet, as UCS-2', () => {
    expect(measureSms('ç').encoding).toBe('UCS-2');
  });
});

describe('measureSms keeps grapheme clusters whole, as Twilio\'s segment calculator does', () => {
  const A = (n: number) => 'আ'.repeat(n);
  /** Each case puts a cluster across the 67-unit boundary of the first part: 2 parts if it could be split, 3 as it cannot. */
  const straddling: [string, string][] = [
    ['a Bangla consonant and its vowel sign (ক + ি)', A(66) + 'কি' + A(66)],
    ['a Bangla consonant and its virama (ক + ্)', A(66) + 'ক্ষ' + A(65)],
    ['an emoji and its skin tone (👍 + 🏽)', A(65) + '👍🏽' + A(65)],
    ['a flag, two regional indicators (🇧🇩)', A(65) + '🇧🇩' + A(65)],
    ['an emoji ZWJ sequence (👨‍👩‍👧)', A(64) + '👨‍👩‍👧' + A(62)],
    ['a keycap (1 + VS16 + U+20E3)', A(66) + '1️⃣' + A(65)],
  ];

  it('never splits a surrogate pair or a Bangla consonant from its sign, and moves the whole cluster to the next part', () => {
    for (const [name, text] of straddling) {
      expect(text.length, name).toBe(134);
      expect(measureSms(text), name).toEqual({ encoding: 'UCS-2', characters: 134, segments: 3 });
      const parts = splitSms(text);
      expect(parts.join(''), name).toBe(text);
      expect(parts[0], name).toBe(text.slice(0, parts[0]!.length));
      expect(parts[0]!.length, name).toBeLessThan(67);
      for (const part of parts) expect(part, name).not.toMatch(/^[\uDC00-\uDFFF\u09BE-\u09CD\u{1F3FB}-\u{1F3FF}\u200D\u20E3\uFE0F]/u);
    }
  });

  it('splits a Bangla conjunct after its virama when that is where the part is full, as the calculator does', () => {
    // The calculator's splitter follows Unicode 10 (no conjunct rule GB9c): ক্ষ is the clusters ক্ and ষ.
    const text = A(65) + 'ক্ষ' + A(66);
    expect(measureSms(text).segments).toBe(2);
    expect(splitSms(text)).toEqual([A(65) + 'ক্', 'ষ' + A(66)]);
  });

  it('may put the CR and the LF of a line break in different parts, as the calculator does', () => {
    const text = 'a'.repeat(152) + '\r\n' + 'b'.repeat(152);
    expect(measureSms(text)).toEqual({ encoding: 'GSM-7', characters: 306, segments: 2 });
    expect(splitSms(text)).toEqual(['a'.repeat(152) + '\r', '\n' + 'b'.repeat(152)]);
  });

  it('gives a cluster longer than a part a part of its own, leaving the first part empty when it comes first', () => {
    const cluster = 'a' + '\u0301'.repeat(69); // 70 code units, one cluster
    expect(measureSms(cluster).segments).toBe(1);
    expect(splitSms(cluster + 'b')).toEqual(['', cluster + 'b']); // the calculator does not check the second part
    expect(measureSms(cluster + 'b')).toEqual({ encoding: 'UCS-2', characters: 71, segments: 2 });
  });

  it('refuses a text that fits ten parts only by splitting a cluster: the gateway sends it as eleven', () => {
    const text = A(66) + 'কি' + A(602); // 670 code units = 10 × 67, but কি cannot straddle the first boundary
    expect(measureSms(text)).toEqual({ encoding: 'UCS-2', characters: 670, segments: 11 });
    expect(caught(() => assertWithinMaxSegments(text)).message).toMatch(/^text is 11 SMS segments \(670 UCS-2 characters\)/);
  });
});

describe('splitSms', () => {
  it('returns one part per segment that joins back to the original text', () => {
    const texts = [
      'Hello',
      'a'.repeat(161),
      'x'.repeat(150) + '[]{}€'.repeat(40),
      BANGLA.repeat(9),
      ('Bill due 😀 ' + BANGLA).repeat(7),
    ];
    for (const text of texts) {
      const parts = splitSms(text);
      expect(parts.length).toBe(measureSms(text).segments);
      expect(parts.join('')).toBe(text);
    }
  });

  it('keeps every part of a GSM-7 text within 153 septets', () => {
    const text = 'x'.repeat(150) + '[]{}€'.repeat(40);
    const parts = splitSms(text);
    expect(parts.length).toBe(4);
    for (const part of parts) expect(measureSms(part).characters).toBeLessThanOrEqual(153);
  });
});

describe('assertWithinMaxSegments', () => {
  it('allows ten segments', () => {
    expect(MAX_SMS_SEGMENTS).toBe(10);
    expect(() => assertWithinMaxSegments('a'.repeat(1530))).not.toThrow();
    expect(() => assertWithinMaxSegments('আ'.repeat(670))).not.toThrow();
  });

  it('refuses eleven GSM-7 segments with the sizes and limits in the message', () => {
    const error = caught(() => assertWithinMaxSegments('a'.repeat(1700)));
    expect(error.kind).toBe('Invalid');
    expect(error.message).toBe(
      'text is 12 SMS segments (1,700 GSM-7 characters); the maximum is 10 segments (1,530 GSM-7 or 670 UCS-2 characters).',
    );
    expect(error.fields).toEqual([{ field: 'text', message: error.message }]);
    expect(caught(() => assertWithinMaxSegments('a'.repeat(1531))).message).toMatch(/^text is 11 SMS segments \(1,531 GSM-7/);
  });

  it('names the field it was given and the character that forced UCS-2', () => {
    const error = caught(() => assertWithinMaxSegments('a'.repeat(670) + 'ট', 'body'));
    expect(error.message).toBe(
      'body is 11 SMS segments (671 UCS-2 characters); the maximum is 10 segments (1,530 GSM-7 or 670 UCS-2 characters); ' +
        'it is sent as UCS-2 because it contains "ট", which GSM-7 cannot carry.',
    );
    expect(error.fields).toEqual([{ field: 'body', message: error.message }]);
  });
});
