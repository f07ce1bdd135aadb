/**
 * A short, sanitized excerpt of what a provider (or any outbound call) replied, fit for a
 * message's history and error messages: one line of plain text, no markup, no control or
 * invisible direction characters, no broken UTF-16, at most `max` characters.
 */

/** Only this much of a reply is looked at: an excerpt needs the beginning, and the work stays bounded. */
const MAX_INPUT = 64 * 1024;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** C0, DEL and C1 controls (tabs and newlines included: they become spaces). */
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/g;
/**
 * Invisible characters that can disguise text: bidi embeddings, overrides and isolates, LRM/RLM,
 * zero-width space, word joiner, BOM, soft hyphen, noncharacters. ZWNJ and ZWJ (U+200C, U+200D)
 * stay: Bangla and other scripts need them.
 */
const INVISIBLE = /[\u00AD\u200B\u200E\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF\uFFFE\uFFFF]/g;
const WHITESPACE = /\s+/g;

/** Removes what looks like HTML/XML markup: tags, comments, and the content of script/style. Linear time. */
function stripTags(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    if (lt === -1) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, lt);
    const next = text.charAt(lt + 1);
    if (!/[A-Za-z/!?]/.test(next)) {
      out += '<'; // "a < b", "<3": not markup
      i = lt + 1;
      continue;
    }
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      if (end === -1) break; // an unfinished comment: drop the rest
      out += ' ';
      i = end + 3;
      continue;
    }
    const gt = text.indexOf('>', lt + 1);
    if (gt === -1) break; // an unfinished tag (e.g. cut by a size cap): drop the rest
    out += ' ';
    i = gt + 1;
    const name = /^<([A-Za-z]+)/.exec(text.slice(lt, lt + 8))?.[1]?.toLowerCase();
    if (name === 'script' || name === 'style') {
      const close = new RegExp(`</${name}\\s*>`, 'gi');
      close.lastIndex = i;
      const match = close.exec(text);
      i = match ? match.index + match[0].length : text.length;
    }
  }
  return out;
}

/**
 * One line of plain text from `text`: markup, control and invisible characters and lone
 * surrogates removed, whitespace collapsed, at most `max` characters (code points), ending in '…'
 * when cut. Never throws; anything unusable gives ''.
 */
export function safeExcerpt(text: string, max = 160): string {
  try {
    const limit = Number.isFinite(max) ? Math.max(0, Math.floor(max)) : 160;
    if (limit === 0) return '';
    const input = typeof text === 'string' ? text : String(text ?? '');
    const clean = stripTags(input.slice(0, MAX_INPUT).replace(LONE_SURROGATE, ''))
      .replace(CONTROL, ' ')
      .replace(INVISIBLE, '')
      .replace(WHITESPACE, ' ')
      .trim();
    const chars = Array.from(clean);
    const inputCut = input.length > MAX_INPUT;
    if (!inputCut && chars.length <= limit) return clean;
    return `${chars.slice(0, Math.min(chars.length, limit - 1)).join('').trimEnd()}…`;
  } catch {
    return '';
  }
}
