/**
 * SMS encoding and segment counting, as carriers bill it — and exactly as Twilio's segment calculator
 * (npm `sms-segments-calculator`, our test oracle in test/unit/segments-oracle.test.ts) counts it.
 *
 * A text goes as GSM-7 when every character is in the GSM 03.38 default alphabet or its
 * extension table; otherwise the whole text goes as UCS-2 (UTF-16 code units).
 *
 *             single part   per part when split (the rest is the concatenation header)
 *   GSM-7     160 septets   153 septets
 *   UCS-2     70 units      67 units
 *
 * A message is cut into parts between grapheme clusters (user-perceived characters), never inside
 * one: an extension character (ESC + character, 2 septets), an emoji with its skin tone or its ZWJ
 * sequence, a flag, a keycap, a letter with its combining marks or a Bangla consonant with its vowel
 * sign or virama always travel in the same part, so a part may carry fewer units than its maximum.
 *
 * Grapheme clusters are those of the calculator's splitter (grapheme-splitter 1.0.4: UAX #29 rules
 * and Grapheme_Cluster_Break data of Unicode 10.0), not Intl.Segmenter's (Node 20's ICU follows
 * Unicode 15 to 17, depending on the release, whose rules differ: e.g. the conjunct rule GB9c of 15.1
 * keeps ক্ষ whole where the calculator — and so the gateway's count — has the clusters ক্ and ষ, and
 * since Unicode 11 a skin tone joins any character). The rules that splitter actually applies, quirks
 * included, are restated in `graphemeEnd` below; the code is ours, the data is Unicode's.
 *
 * How the calculator packs (and so do we): clusters fill the first part up to the single-part
 * limit; when one does not fit, the first part gets its header and gives back its trailing clusters
 * beyond the per-part limit, which go, with the one that did not fit, to the second part; from then
 * on a cluster that does not fit starts a new part. Neither that second part nor a cluster longer
 * than a part is checked against the limit: such a part counts once, however long (only possible
 * with clusters of dozens of combining marks or joined emoji; the first part is then even empty when
 * the very first cluster is longer than 67 units).
 *
 * Deliberate differences from the calculator:
 * - empty text is 0 segments here (the calculator reports 1 empty segment);
 * - `characters` is what is billed by length: GSM-7 septets (as the calculator's numberOfCharacters)
 *   or UCS-2 code units (the calculator's numberOfCharacters counts grapheme clusters for UCS-2).
 * Like the calculator by default, we apply no smart encoding (curly quotes etc. are not replaced by
 * GSM-7 look-alikes) and count line breaks as they are (CR and LF one unit each).
 */
import { invalid } from './errors.js';

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export type SmsMeasure = { encoding: SmsEncoding; characters: number; segments: number };

export const MAX_SMS_SEGMENTS = 10;

const LIMITS: Record<SmsEncoding, { single: number; part: number }> = {
  'GSM-7': { single: 160, part: 153 },
  'UCS-2': { single: 70, part: 67 },
};

/** GSM 03.38 default alphabet (1 septet each). The ESC position (0x1B) is not a character. */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅå' +
  'Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ' +
  ' !"#¤%&\'()*+,-./' +
  '0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§' +
  '¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** GSM 03.38 extension table (ESC + character: 2 septets each). */
const GSM_EXTENSION = '\f^{}\\[]~|€';

/** Septets per UTF-16 code unit, 0 for a unit GSM-7 cannot carry (every GSM character is below U+20AD). */
const SEPTETS = new Uint8Array(0x20ad);
for (const ch of GSM_BASIC) SEPTETS[ch.charCodeAt(0)] = 1;
for (const ch of GSM_EXTENSION) SEPTETS[ch.charCodeAt(0)] = 2;

const septetsOf = (unit: number): number => (unit < 0x20ad ? SEPTETS[unit]! : 0);

// ---------------------------------------------------------------------------------------------
// Grapheme clusters, as the calculator's splitter finds them (Unicode 10.0 rules and data)
// ---------------------------------------------------------------------------------------------

// Grapheme_Cluster_Break values; 0 is Other.
const CONTROL = 1;
const CR = 2;
const LF = 3;
const EXTEND = 4;
const ZWJ = 5;
const SPACING_MARK = 6;
const PREPEND = 7;
const L = 8;
const V = 9;
const T = 10;
const LVT = 11;
const RI = 12;
const E_BASE = 13;
const E_BASE_GAZ = 14;
const E_MODIFIER = 15;
const GLUE_AFTER_ZWJ = 16;
/** Only in the table: U+AC00..U+D7A3, which `breakClass` resolves to LV when (cp − 0xAC00) is a multiple of 28, LVT otherwise. */
const HANGUL_SYLLABLE = 17;
const LV = 18;
const NONE = -1;

const CLASS_LETTERS = 'OCRNEZSPLVTXIBHMGY'; // index = class value above

/**
 * Grapheme_Cluster_Break of Unicode 10.0 (GraphemeBreakProperty-10.0.0.txt, with E_Base, E_Modifier,
 * Glue_After_Zwj and E_Base_GAZ), which is the data of the calculator's splitter. One run per class
 * change over U+0000..U+10FFFF: the distance from the previous run's start in base 36, then the class
 * letter (CLASS_LETTERS). Checked code point by code point against the calculator's splitter.
 */
const BREAK_RUNS =
  '0CaN1C2R1CiO2nCxOdC1OgiE34O7nE7O7bE19O1E1O1E2O1E2O1E1O1kP6OaEbO1C1O1aElOgE1O2tE7P1O1E6O2E2O1E4OxP1O1E1Ou' +
  'ErO2jEbO1mE9OyE4O1E9O1E3O1E5O17E3O3cEeP1EwS1O1iE1S1E1O1S3E8S4E1S2O1E7OaE2OtE1S2O1kE1O1E1S2E4O2S2O2S2E1O9' +
  'E1OaE2OtE2S1O1kE1O1S3E2O4E2O2E3O3E1OuE2O3E1ObE2S1O1kE1O1S3E5O1E2S1O1S2E1OkE2OmE6O1E1S2O1kE1O1E2S1E4O2S2O' +
  '2S2E1O8E2OaE2OuE1O1nE1S1E1S2O3S3O1S3E1O9E1O14E1S3O1mE3S4O1E3O1E4O7E2ObE2OtE1S2O1kE1O1S1E1S2E1S2O1E1S2O1S' +
  '2E2O7E2ObE2OsE2S2O1jE2O1E1S2E4O1S3O1S3E1P1O8E1OaE2OuS2O1yE1O4E1S2E3O1E1O1S7E1OiS2O1pE1O1S1E7OcE8O2qE1O1S' +
  '1E6O1E2ObE6O22E2OrE1O1E1O1E1O4S2O1dEeS1E5O1E2O5EbO1E10O9E1O2uE4S1E6O1E2S2E2OnS2E2O4E3OgE4OdE1O1S1E2O6E1O' +
  'fE1O2qL2oV20T2gO9pE3OqaE3OtE3OtE2OuE2O1sE2S1E7S8E1S2EbO9E1O19E3C1O3aE2OyE1O3aE3S4E2S3O4S2E1S6E3O63E2S2E1' +
  'O1lS1E1S1E7O1E1O1E1O2E8S6EaO2E1O1cEfO1tE4S1O1bE1S1E5S1E1S5E1S2O12E9OcE2S1OuS1E4S2E2S1E3O1kE1S1E2S3E1S1E3' +
  'S2O1cS8E8S2E2O48E3O1EdS1E7O4E1O4S2E1O2S1E2O5iE1mO1E5OejC1E1Z1C2OoC7O1dCgO2oExO10sB1OyG1O1G1O2aG2O2qB1OeG' +
  '1O1B4O2eG1O13eE3O3xE1O2oEwOfeE6O2xE2On9wE4O1EaOwE2O28E2O7kE1O3E1O4E1OnS2E2S1O2gS2O1eSgE2OqEiO1gE8OpEbS2O' +
  'cLtO3E3S1O1bE1S2E4S2E1S4O10E1O1vE6S2E2S2E2OcE1O8E1S1O1aE1O1fE1O1E3O2E2O5E2O1E1O15S1E2S2O5S1E1O6kS2E1S2E1' +
  'S2O1S1E1OiY8mcOcVnO4T1dO4C1kwO5cuE1OkhEgOgEgO5rC1O4eE2O28CcOe9E1O6aE1O45E5O1aeE3O1E2O5E4O14E3O4E1O4lE2O1' +
  '09S1E1S1O1hEfO1kE3S1O19S3E4S2E2O2P1O1uE3O10E5S1E8O1qE1OcE2S1O1cS3E9S2O1P2O6E3O2nS3E3S2E1S1E2O6E1O4gE1S3E' +
  '8OlE2S2O1kE1O1E1S1E1S4O2S2O2S3O9E1OaS2O2E7O3E5O5cS3E8S2E3S1E1O2xE1S2E6S1E1S2E1S1E2S1E2O6jE1S2E4O2S4E2S1E' +
  '2OrE2O2aS3E8S2E1S1E2O2yE1S1E1S2E6S1E1O2tE3S2E4S1E5Ok5E6S2E2O14E6S1P1E4O8E1O9E6S2E3O16P4EdS1E2Ob9S1E7O1E6' +
  'S1E1O2aEmO1S1E7S1E2S1E2O3eE6O3E1O1E2O1E7P1E1Ofc8E5O1nE7Ot6S1aOgE4Of7uE2O1C4O43lE1S1E3O3S1E5C8E8O2E7OuE4O' +
  '44E3O1izE1jO4E1eO8E1OeE1OmE5O1EfO11sE7O1EhO2E7O1E2O1E5O1phE7O31E7O1p7IqO7cG1O1hG1O1gG1OhB1OdG1OgG1O3G1Op' +
  'B3O2B1O2B3OuG1O1G1OdM5O1uB2O2BbOlH4O4B1O1B9O3B1O4B3O1B3O3G1OuB1OgG2O2yG1O4G1O1zB2O4B1OlB1O4B2O29G1O2kB3O' +
  '3B5O1cG1OhG1OgB1OgB3O9B1ObB1OgbB5O1B2O6B1O9BaO3B2O42BdOgw0yCwE2oC3kE6oC2s0O';

const RUN_STARTS: number[] = [];
const RUN_CLASSES: number[] = [];
{
  let start = 0;
  for (const [, distance, letter] of BREAK_RUNS.matchAll(/([0-9a-z]+)([A-Z])/g)) {
    start += parseInt(distance!, 36);
    RUN_STARTS.push(start);
    RUN_CLASSES.push(CLASS_LETTERS.indexOf(letter!));
  }
}

/** Class of every BMP code unit (surrogates included: a lone one is a Control), for O(1) look-up. */
const BMP_CLASS = new Uint8Array(0x10000);
for (let i = 0; i < RUN_STARTS.length && RUN_STARTS[i]! < 0x10000; i++) {
  BMP_CLASS.fill(RUN_CLASSES[i]!, RUN_STARTS[i]!, Math.min(RUN_STARTS[i + 1] ?? 0x10000, 0x10000));
}

function breakClass(cp: number): number {
  let cls: number;
  if (cp < 0x10000) {
    cls = BMP_CLASS[cp]!;
  } else {
    let lo = 0;
    let hi = RUN_STARTS.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (RUN_STARTS[mid]! <= cp) lo = mid;
      else hi = mid - 1;
    }
    cls = RUN_CLASSES[lo]!;
  }
  return cls === HANGUL_SYLLABLE ? ((cp - 0xac00) % 28 === 0 ? LV : LVT) : cls;
}

/**
 * End (exclusive) of the grapheme cluster that starts at `start`, as the calculator splits it: the
 * UAX #29 rules of Unicode 10.0 — GB3 to GB13, with GB10 (E_Base | E_Base_GAZ) Extend* × E_Modifier and
 * GB11 ZWJ × (Glue_After_Zwj | E_Base_GAZ), and no rule for Indic conjuncts — as its splitter applies
 * them, which departs from the standard in three ways, reproduced here:
 * - GB10 joins a skin tone to its base only across at most one Extend (👍 + U+0301 + U+0301 + 🏽 is
 *   👍◌́◌́ and 🏽), and in a cluster holding an Extend anywhere only across exactly one (👩 VS16 ZWJ 👦 🏽
 *   is 👩️‍👦 and 🏽);
 * - a cluster whose second code point is a regional indicator ends after the first code point that
 *   follows its regional indicators (🇧🇩 + U+0301 + U+0301 is 🇧🇩◌́ and ◌́);
 * - a Prepend then regional indicators keeps only the first of them (U+0600 🇧 🇩 is U+0600🇧 and 🇩).
 * CR LF is then split into CR and LF, as the calculator does after splitting.
 */
function graphemeEnd(text: string, start: number): number {
  const n = text.length;
  const first = text.codePointAt(start)!;
  const s = breakClass(first); // class of the cluster's first code point
  let i = start + (first > 0xffff ? 2 : 1);
  let p = s; // class of the previous code point
  let pp = NONE; // class of the one before it, within the cluster
  let anyExtend = s === EXTEND; // an Extend anywhere in the cluster
  let riAfterFirst = false; // a regional indicator after the first code point
  // After the first code point: 0 nothing yet, 1 only regional indicators, 2 regional indicators and
  // then something else (the cluster ends here), 3 anything else.
  let riRun = 0;

  while (i < n) {
    const cp = text.codePointAt(i)!;
    const c = breakClass(cp);

    let join: boolean;
    if (riRun === 2) join = false; // the splitter's regional-indicator quirk
    else if (p === CONTROL || p === CR || p === LF || c === CONTROL || c === CR || c === LF) join = false; // GB4, GB5 (and CR LF split)
    else if (p === L && (c === L || c === V || c === LV || c === LVT)) join = true; // GB6
    else if ((p === LV || p === V) && (c === V || c === T)) join = true; // GB7
    else if ((p === LVT || p === T) && c === T) join = true; // GB8
    else if (c === EXTEND || c === ZWJ || c === SPACING_MARK || p === PREPEND) join = true; // GB9, GB9a, GB9b
    else if (c === E_MODIFIER && (anyExtend ? p === EXTEND && (pp === E_BASE || pp === E_BASE_GAZ) : p === E_BASE || p === E_BASE_GAZ))
      join = true; // GB10, as narrowed by the splitter
    else if (p === ZWJ && (c === GLUE_AFTER_ZWJ || c === E_BASE_GAZ)) join = true; // GB11
    else join = !riAfterFirst && p === RI && c === RI; // GB12, GB13 (a pair at most, even after a Prepend)
    if (!join) return i;

    pp = p;
    p = c;
    if (c === EXTEND) anyExtend = true;
    if (c === RI) riAfterFirst = true;
    if (riRun === 0) riRun = c === RI ? 1 : 3;
    else if (riRun === 1 && c !== RI) riRun = 2;
    i += cp > 0xffff ? 2 : 1;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Encoding and packing
// ---------------------------------------------------------------------------------------------

/** Encoding and billable length: GSM-7 septets, or UCS-2 code units. */
function lengthOf(text: string): { encoding: SmsEncoding; characters: number } {
  let septets = 0;
  for (let i = 0; i < text.length; i++) {
    const size = septetsOf(text.charCodeAt(i));
    if (size === 0) return { encoding: 'UCS-2', characters: text.length };
    septets += size;
  }
  return { encoding: 'GSM-7', characters: septets };
}

/**
 * Offsets where the 2nd, 3rd, … parts start (none for a text that fits one part). In GSM-7 every
 * character is its own cluster (a multi-character cluster always holds a character GSM-7 cannot carry).
 */
function cutPoints(text: string, encoding: SmsEncoding, characters: number): number[] {
  const { single, part } = LIMITS[encoding];
  const cuts: number[] = [];
  if (characters <= single) return cuts;

  const gsm = encoding === 'GSM-7';
  const n = text.length;
  let i = 0;
  let used = 0;
  // The first part: fill up to `single`, remembering the last cluster boundary within `part`.
  let fitEnd = 0;
  let fitUsed = 0;
  while (i < n) {
    const end = gsm ? i + 1 : graphemeEnd(text, i);
    const size = gsm ? septetsOf(text.charCodeAt(i)) : end - i;
    if (used + size > single) {
      // Header added: what is beyond `part` moves on with this cluster, even if together they exceed a part.
      cuts.push(fitEnd);
      used = used - fitUsed + size;
      i = end;
      break;
    }
    used += size;
    i = end;
    if (used <= part) {
      fitEnd = i;
      fitUsed = used;
    }
  }
  while (i < n) {
    const end = gsm ? i + 1 : graphemeEnd(text, i);
    const size = gsm ? septetsOf(text.charCodeAt(i)) : end - i;
    if (used + size > part) {
      cuts.push(i);
      used = size;
    } else {
      used += size;
    }
    i = end;
  }
  return cuts;
}

/**
 * Encoding, billable length (GSM-7 septets or UCS-2 code units) and number of segments.
 * Empty text is 0 segments; any non-empty text is at least 1.
 */
export function measureSms(text: string): SmsMeasure {
  const { encoding, characters } = lengthOf(text);
  const segments = text.length === 0 ? 0 : cutPoints(text, encoding, characters).length + 1;
  return { encoding, characters, segments };
}

/**
 * The parts as they would be sent; `splitSms(t).length === measureSms(t).segments` and they join back to `t`.
 * Only a text whose first cluster is longer than a part (over 67 code units) has an empty first part, as
 * the calculator has.
 */
export function splitSms(text: string): string[] {
  if (text.length === 0) return [];
  const { encoding, characters } = lengthOf(text);
  const parts: string[] = [];
  let from = 0;
  for (const cut of cutPoints(text, encoding, characters)) {
    parts.push(text.slice(from, cut));
    from = cut;
  }
  parts.push(text.slice(from));
  return parts;
}

const count = (n: number) => n.toLocaleString('en-US');

/** Throws Invalid when `text` needs more than MAX_SMS_SEGMENTS segments. */
export function assertWithinMaxSegments(text: string, field = 'text'): void {
  const { encoding, characters, segments } = measureSms(text);
  if (segments <= MAX_SMS_SEGMENTS) return;

  const maxGsm = MAX_SMS_SEGMENTS * LIMITS['GSM-7'].part;
  const maxUcs = MAX_SMS_SEGMENTS * LIMITS['UCS-2'].part;
  let message =
    `${field} is ${segments} SMS segments (${count(characters)} ${encoding} characters); ` +
    `the maximum is ${MAX_SMS_SEGMENTS} segments (${count(maxGsm)} GSM-7 or ${count(maxUcs)} UCS-2 characters)`;
  if (encoding === 'UCS-2') {
    const first = [...text].find((ch) => ch.length > 1 || septetsOf(ch.charCodeAt(0)) === 0);
    message += `; it is sent as UCS-2 because it contains "${first}", which GSM-7 cannot carry`;
  }
  message += '.';
  throw invalid(message, [{ field, message }]);
}
