/**
 * measureSms / splitSms against Twilio's own segment calculator (npm `sms-segments-calculator`, a
 * devDependency used only here: it is about 100 times slower, so run-time code never imports it).
 * Every text must get the same encoding, the same number of segments and the very same parts.
 */
import { describe, it, expect } from 'vitest';
import { SegmentedMessage } from 'sms-segments-calculator';
import { measureSms, splitSms } from '../../shared/domain/segments.js';

type Verdict = { encoding: string; segments: number; parts: string[] };

function oracle(text: string): Verdict {
  const message = new SegmentedMessage(text);
  const parts = message.segments.map((segment) => {
    let part = '';
    // A segment holds its header octets (no `raw`) and the encoded characters (graphemes) it carries.
    for (const item of segment as unknown as Iterable<{ raw?: string }>) if (item.raw !== undefined) part += item.raw;
    return part;
  });
  return { encoding: message.encodingName, segments: message.segmentsCount, parts };
}

function ours(text: string): Verdict {
  const { encoding, segments } = measureSms(text);
  return { encoding, segments, parts: splitSms(text) };
}

const sameParts = (a: string[], b: string[]) => a.length === b.length && a.every((part, i) => part === b[i]);

const hex = (s: string) => [...s].map((ch) => ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')).join(' ');

/** A legible account of the first disagreement: where the parts start to differ, in code points. */
function explain(label: string, text: string, mine: Verdict, theirs: Verdict): string {
  let at = 0;
  while (at < mine.parts.length && at < theirs.parts.length && mine.parts[at] === theirs.parts[at]) at++;
  const offset = mine.parts.slice(0, at).join('').length;
  const a = mine.parts[at] ?? '';
  const b = theirs.parts[at] ?? '';
  const end = offset + Math.min(a.length, b.length);
  return [
    `${label}: ${text.length} UTF-16 units, ours ${mine.encoding} ${mine.segments} segments, calculator ${theirs.encoding} ${theirs.segments}`,
    `part lengths ours [${mine.parts.map((p) => p.length).join(', ')}], calculator [${theirs.parts.map((p) => p.length).join(', ')}]`,
    `part ${at + 1} (from unit ${offset}) ends at ${offset + a.length} in ours and ${offset + b.length} in the calculator's`,
    `around there: ${hex(text.slice(Math.max(0, end - 8), end + 8))}`,
    `text: ${JSON.stringify(text)}`,
  ].join('\n');
}

const CHARS = new Map<string, string[]>();

/** Deterministic PRNG (mulberry32). */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const char = (chars: string) => pick(CHARS.get(chars) ?? CHARS.set(chars, [...chars]).get(chars)!);
  const cp = (lo: number, hi: number) => String.fromCodePoint(int(lo, hi));
  return { next, int, pick, char, cp };
}

const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ASCII_PUNCT = ' .,!?:;-\'"()/@#%&*+=<>_';
const GSM_OTHER = '£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¡ÄÖÑÜ§¿äöñüà¤';
const GSM_EXT = '^{}\\[]~|€\f';
const BN_CONSONANTS = 'কখগঘঙচছজঝঞটঠডঢণতথদধনপফবভমযরলশষসহড়ঢ়য়';
const BN_VOWELS = 'অআইঈউঊঋএঐওঔ';
const BN_SIGNS = 'ািীুূৃেৈোৌ';
const BN_MODIFIERS = 'ংঃঁ';
const BN_DIGITS = '০১২৩৪৫৬৭৮৯';
const VIRAMA = '\u09CD';
const ZWJ = '\u200D';
const EMOJI = ['😀', '🎉', '📱', '💡', '🙏', '🔥', '✅', '⚡', '☎', '✈', '💳', '🏠', '📶', '🌐', '🤖', '🥳', '🫠'];
const WITH_VS = ['❤️', '☺️', '✈️', '☎️', '☎︎', '✔️', '⚠️', '©️', '™️'];
const SKIN_BASES = ['👍', '👋', '🙏', '💪', '👦', '👩', '🧑', '☝', '✌', '🤞', '🏃', '🫶', 'a'];
const ZWJ_SEQUENCES = ['👨‍👩‍👧‍👦', '👩‍💻', '🏳️‍🌈', '👁‍🗨', '❤️‍🔥', '🧑‍🤝‍🧑', '👩🏽‍🚀', '🏃‍♀️', '👨‍❤️‍💋‍👨', '🐕‍🦺', '😶‍🌫️'];
const FLAGS = ['🇧🇩', '🇺🇸', '🇬🇧', '🇮🇳', '🇯🇵'];
const TAG_FLAG = '🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}';

type Rng = ReturnType<typeof prng>;

/** Text a GSM-7 message is made of. */
function gsmToken(r: Rng): string {
  const x = r.next();
  if (x < 0.55) return Array.from({ length: r.int(1, 9) }, () => r.char(ASCII)).join('') + r.char(' ' + ASCII_PUNCT);
  if (x < 0.75) return r.char(GSM_OTHER);
  if (x < 0.93) return r.char(GSM_EXT);
  return r.pick(['\n', '\r\n', '\r']);
}

function banglaToken(r: Rng): string {
  const x = r.next();
  if (x < 0.12) return r.char(BN_VOWELS);
  if (x < 0.18) return r.char(BN_DIGITS);
  if (x < 0.22) return r.pick(['।', ' ', ' ']);
  let syllable = r.char(BN_CONSONANTS);
  const conjuncts = r.next() < 0.35 ? r.int(1, 2) : 0;
  for (let i = 0; i < conjuncts; i++) syllable += VIRAMA + r.char(BN_CONSONANTS);
  if (r.next() < 0.5) syllable += r.char(BN_SIGNS);
  if (r.next() < 0.1) syllable += r.char(BN_MODIFIERS);
  if (r.next() < 0.05) syllable += VIRAMA; // a trailing hasanta
  return syllable;
}

function emojiToken(r: Rng): string {
  const x = r.next();
  if (x < 0.2) return r.pick(EMOJI);
  if (x < 0.3) return r.pick(WITH_VS);
  if (x < 0.5) return r.pick(SKIN_BASES) + r.cp(0x1f3fb, 0x1f3ff) + (r.next() < 0.1 ? r.cp(0x1f3fb, 0x1f3ff) : '');
  if (x < 0.65) return r.pick(ZWJ_SEQUENCES);
  if (x < 0.72) return r.pick(EMOJI) + ZWJ + r.pick([...EMOJI, ...SKIN_BASES, '♀️', '♂️', '❤']);
  if (x < 0.82) return r.next() < 0.5 ? r.pick(FLAGS) : r.cp(0x1f1e6, 0x1f1ff) + (r.next() < 0.8 ? r.cp(0x1f1e6, 0x1f1ff) : '');
  if (x < 0.9) return r.char('0123456789#*') + (r.next() < 0.8 ? '\uFE0F' : '') + '\u20E3';
  if (x < 0.95) return TAG_FLAG;
  return r.pick(['\uFE0F', '\uFE0E', ZWJ]); // a lone variation selector or joiner
}

function otherToken(r: Rng): string {
  const x = r.next();
  if (x < 0.2) return Array.from({ length: r.int(1, 4) }, () => r.cp(0x4e00, 0x9fff)).join(''); // CJK
  if (x < 0.3) return Array.from({ length: r.int(1, 3) }, () => r.cp(0x0300, 0x036f)).join(''); // lone combining marks
  if (x < 0.38) return r.cp(0xac00, 0xd7a3) + (r.next() < 0.3 ? r.cp(0x11a8, 0x11c2) : ''); // Hangul
  if (x < 0.42) return r.cp(0x1100, 0x1112) + r.cp(0x1161, 0x1175) + (r.next() < 0.5 ? r.cp(0x11a8, 0x11c2) : ''); // Hangul jamo
  if (x < 0.5) return r.pick(['क्ष', 'श्री', 'नमस्ते', 'हिन्दी', 'ক্ষ্ম']); // Devanagari / Bangla clusters
  if (x < 0.56) return r.pick(['مرحبا', '\u0600١٢', 'ﷺ', 'سلام']); // Arabic, with a Prepend
  if (x < 0.62) return r.pick(['สวัสดี', 'ก่', 'ำ']); // Thai
  if (x < 0.68) return r.pick(['Привет', 'ç', 'ğ', 'ε', 'ł', '«»', '…', '“”', '–']);
  if (x < 0.74) return r.pick(['\t', '\u00AD', '\u200B', '\u200C', '\u2028', '\uFEFF', '\u0000']); // controls, format characters
  if (x < 0.87) {
    let cp = r.int(0x00a0, 0xfffd);
    while (cp >= 0xd800 && cp <= 0xdfff) cp = r.int(0x00a0, 0xfffd);
    return String.fromCodePoint(cp); // anything in the BMP
  }
  return r.cp(0x10000, 0x10ffff); // anything beyond it, assigned or not
}

function mixedToken(r: Rng): string {
  const x = r.next();
  if (x < 0.3) return gsmToken(r);
  if (x < 0.6) return banglaToken(r);
  if (x < 0.82) return emojiToken(r);
  return otherToken(r);
}

/**
 * A length aimed at: 1 to ~1,600 units, mostly within a few units of where a part fills up. Shorter
 * texts are favoured only because the calculator takes ~10 ms on a 1,600-unit text.
 */
function targetLength(r: Rng, gsm: boolean): number {
  if (r.next() < 0.15) return r.int(1, 1600);
  const [single, part] = gsm ? [160, 153] : [70, 67];
  const x = r.next();
  const k = x < 0.45 ? r.int(1, 2) : x < 0.8 ? r.int(3, 5) : r.int(6, 11); // parts, up to the 10/11 edge
  const edge = k === 1 || r.next() < 0.1 ? single : k * part;
  return Math.max(1, edge + r.int(-6, 6));
}

function randomText(r: Rng): string {
  const kind = r.next();
  const gsm = kind < 0.3;
  const target = targetLength(r, gsm);
  let text = '';
  while (text.length < target) {
    if (gsm) text += gsmToken(r);
    else if (kind < 0.5) text += r.next() < 0.03 ? mixedToken(r) : gsmToken(r); // Latin text with a rare non-GSM character
    else if (kind < 0.7) text += r.next() < 0.85 ? banglaToken(r) : mixedToken(r); // Bangla
    else text += mixedToken(r);
  }
  return text;
}

describe("measureSms and splitSms agree with Twilio's segment calculator", () => {
  it('on 10,000 random texts: same encoding, same number of segments, same parts', { timeout: 180_000 }, () => {
    const r = prng(20_240_611);
    const texts = 10_000;
    let ucs2 = 0;
    let multipart = 0;
    for (let i = 0; i < texts; i++) {
      const text = randomText(r);
      const theirs = oracle(text);
      const mine = ours(text);
      if (mine.encoding !== theirs.encoding || mine.segments !== theirs.segments || !sameParts(mine.parts, theirs.parts)) {
        expect.fail(explain(`text #${i}`, text, mine, theirs));
      }
      if (mine.encoding === 'UCS-2') ucs2++;
      if (mine.segments > 1) multipart++;
    }
    // The corpus is what it claims to be: both encodings, and mostly texts that need splitting.
    expect(ucs2).toBeGreaterThan(texts * 0.5);
    expect(texts - ucs2).toBeGreaterThan(texts * 0.2);
    expect(multipart).toBeGreaterThan(texts * 0.7);
  });

  it('treats exactly the characters the calculator carries in GSM-7 as GSM-7, at the same number of septets', () => {
    // Every GSM-7 character is below U+3000 (€ is U+20AC): all of those, then a sample of the rest of the BMP.
    for (let unit = 0; unit < 0x10000; unit += unit < 0x3000 ? 1 : 37) {
      const text = String.fromCharCode(unit);
      const message = new SegmentedMessage(text);
      const mine = measureSms(text);
      expect(mine.encoding, hex(text)).toBe(message.encodingName);
      if (mine.encoding === 'GSM-7') expect(mine.characters, hex(text)).toBe(message.numberOfCharacters);
    }
  });

  it('finds the same grapheme clusters around code points of every Unicode 10 Grapheme_Cluster_Break class', { timeout: 120_000 }, () => {
    // Each probe puts the boundary between a code point and a neighbour of a class whose rules matter
    // at the first part's 67-unit limit, so the part ends there only if a cluster does. (Our table was
    // also checked offline against the calculator's splitter for every code point; this is a sample.)
    const before: string[] = ['a', '\u1100', '\u1161', '\uAC00', '\u{1F1E6}', '\u261D', 'a\u200D', '\u0600'];
    const after: string[] = ['\u0301', 'a', '\u1161', '\u11A8', '\u{1F3FB}', '\u200D\u{1F466}'];
    const named = [
      0x00, 0x09, 0x0a, 0x0d, 0x1f, 0x20, 0x7f, 0x9f, 0xa0, 0xad, 0x2ff, 0x300, 0x36f, 0x370, 0x483, 0x600, 0x605, 0x61c, 0x6dd,
      0x70f, 0x8e2, 0x903, 0x93a, 0x93b, 0x981, 0x982, 0x9be, 0x9bf, 0x9c1, 0x9cd, 0x9d7, 0xd4e, 0xe33, 0x1100, 0x115f, 0x1160,
      0x11a7, 0x11a8, 0x11ff, 0x180e, 0x200b, 0x200c, 0x200d, 0x200e, 0x2028, 0x2060, 0x20e3, 0x2640, 0x261d, 0x26f9, 0x2764,
      0xa960, 0xa97c, 0xac00, 0xac01, 0xac1b, 0xac1c, 0xd7a3, 0xd7a4, 0xd7b0, 0xd7c6, 0xd7cb, 0xd7fb, 0xd800, 0xdfff, 0xfe0e,
      0xfe0f, 0xfeff, 0xff9e, 0xfff0, 0xfffb, 0x110bd, 0x111c2, 0x1d173, 0x1f1e6, 0x1f1ff, 0x1f308, 0x1f385, 0x1f3fb, 0x1f3ff,
      0x1f466, 0x1f469, 0x1f46e, 0x1f48b, 0x1f600, 0x1f680, 0x1f9d1, 0x1f9dd, 0x1f9de, 0x1fa70, 0xe0000, 0xe0001, 0xe0020,
      0xe007f, 0xe0080, 0xe0100, 0xe01ef, 0xe01f0, 0xe1000, 0x10fffd,
    ];
    const samples = [...named];
    for (let cp = 0x80; cp < 0x20000; cp += cp < 0x10000 ? 131 : 499) samples.push(cp);
    const filler = (units: number) => 'আ'.repeat(units);
    let probes = 0;
    const probe = (label: string, text: string) => {
      probes++;
      const mine = ours(text);
      const theirs = oracle(text);
      if (mine.segments !== theirs.segments || !sameParts(mine.parts, theirs.parts)) {
        expect.fail(explain(label, text, mine, theirs));
      }
    };
    for (const cp of samples) {
      const x = String.fromCodePoint(cp);
      const name = `U+${cp.toString(16).toUpperCase()}`;
      for (const b of before) probe(`${name} after ${hex(b)}`, filler(67 - b.length) + b + x + filler(5));
      for (const a of after) probe(`${name} before ${hex(a)}`, filler(67 - x.length) + x + a + filler(5));
    }
    expect(probes).toBeGreaterThan(10_000);
  });
});
