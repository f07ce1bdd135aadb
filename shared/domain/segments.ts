/**
 * SMS encoding and segment counting, as carriers bill it.
 *
 * A text goes as GSM-7 when every character is in the GSM 03.38 default alphabet or its
 * extension table; otherwise the whole text goes as UCS-2 (UTF-16 code units).
 *
 *             single part   per part when split (the rest is the concatenation header)
 *   GSM-7     160 septets   153 septets
 *   UCS-2     70 units      67 units
 *
 * An extension character is sent as ESC + character (2 septets) and a non-BMP character
 * (emoji) as a surrogate pair (2 units); neither is ever split across two parts, so a part
 * may carry one fewer than its maximum.
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
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅå' +
    'Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ' +
    ' !"#¤%&\'()*+,-./' +
    '0123456789:;<=>?' +
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§' +
    '¿abcdefghijklmnopqrstuvwxyzäöñüà',
);

/** GSM 03.38 extension table (ESC + character: 2 septets each). */
const GSM_EXTENSION = new Set('\f^{}\\[]~|€');

/** One indivisible unit of a message and what it costs in its encoding. */
type Atom = { text: string; size: number };

function isGsm7(text: string): boolean {
  for (const ch of text) {
    if (!GSM_BASIC.has(ch) && !GSM_EXTENSION.has(ch)) return false;
  }
  return true;
}

function encodingOf(text: string): SmsEncoding {
  return isGsm7(text) ? 'GSM-7' : 'UCS-2';
}

/** Iterating a string yields code points, so a surrogate pair stays together (size 2). */
function atoms(text: string, encoding: SmsEncoding): Atom[] {
  const out: Atom[] = [];
  for (const ch of text) {
    const size = encoding === 'GSM-7' ? (GSM_EXTENSION.has(ch) ? 2 : 1) : ch.length;
    out.push({ text: ch, size });
  }
  return out;
}

/** Greedy packing: an atom that does not fit in what is left of the current part starts the next one. */
function pack(list: Atom[], encoding: SmsEncoding): { characters: number; parts: string[] } {
  const characters = list.reduce((sum, a) => sum + a.size, 0);
  if (characters === 0) return { characters, parts: [] };

  const { single, part } = LIMITS[encoding];
  if (characters <= single) return { characters, parts: [list.map((a) => a.text).join('')] };

  const parts: string[] = [];
  let current = '';
  let used = 0;
  for (const a of list) {
    if (used + a.size > part) {
      parts.push(current);
      current = '';
      used = 0;
    }
    current += a.text;
    used += a.size;
  }
  parts.push(current);
  return { characters, parts };
}

function analyse(text: string): { encoding: SmsEncoding; characters: number; parts: string[] } {
  const encoding = encodingOf(text);
  return { encoding, ...pack(atoms(text, encoding), encoding) };
}

/**
 * Encoding, billable length (GSM-7 septets or UCS-2 code units) and number of segments.
 * Empty text is 0 segments; any non-empty text is at least 1.
 */
export function measureSms(text: string): SmsMeasure {
  const { encoding, characters, parts } = analyse(text);
  return { encoding, characters, segments: parts.length };
}

/** The parts as they would be sent; `splitSms(t).length === measureSms(t).segments` and they join back to `t`. */
export function splitSms(text: string): string[] {
  return analyse(text).parts;
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
    const first = [...text].find((ch) => !GSM_BASIC.has(ch) && !GSM_EXTENSION.has(ch));
    message += `; it is sent as UCS-2 because it contains "${first}", which GSM-7 cannot carry`;
  }
  message += '.';
  throw invalid(message, [{ field, message }]);
}
