import { describe, expect, it } from 'vitest';
import { safeExcerpt } from '../../shared/adapters/outbound/excerpt.js';

describe('safe excerpt of a provider reply', () => {
  it('keeps a short plain reply as it is', () => {
    expect(safeExcerpt('{"error":"invalid number"}')).toBe('{"error":"invalid number"}');
  });

  it('collapses whitespace and newlines into single spaces and trims the ends', () => {
    expect(safeExcerpt('  Service\r\n\tUnavailable \n\n  try   later  ')).toBe('Service Unavailable try later');
  });

  it('strips HTML tags, comments and the content of script and style', () => {
    const page =
      '<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>body{color:red}</style>' +
      '<SCRIPT type="text/javascript">alert("x")</SCRIPT></head><body><!-- upstream a1 --><h1>Bad&nbsp;Gateway</h1>' +
      '<p class="x">nginx</p></body></html>';
    expect(safeExcerpt(page)).toBe('502 Bad Gateway Bad&nbsp;Gateway nginx');
  });

  it('keeps a "<" that does not start a tag, and drops a tag cut off at the end', () => {
    expect(safeExcerpt('balance < 5 <3')).toBe('balance < 5 <3');
    expect(safeExcerpt('rejected <a href="https://evil.example/')).toBe('rejected');
  });

  it('removes control characters, bidi overrides and zero-width characters', () => {
    expect(safeExcerpt('ok\u0000\u0007\u001b[31mred\u007f\u0085end')).toBe('ok [31mred end');
    expect(safeExcerpt('paid \u202Egnp.exe\u202C \u200Bnow\uFEFF')).toBe('paid gnp.exe now');
  });

  it('keeps Bangla text with its joiners intact', () => {
    const bangla = 'আপনার বিল ৫০০ টাকা, র\u200D্যাব';
    expect(safeExcerpt(bangla)).toBe(bangla);
  });

  it('removes lone surrogates but keeps emoji made of surrogate pairs', () => {
    expect(safeExcerpt('a\uD800b\uDC00c 😀')).toBe('abc 😀');
  });

  it('caps the excerpt at max characters, ending with an ellipsis', () => {
    const excerpt = safeExcerpt('x'.repeat(500));
    expect(excerpt).toHaveLength(160);
    expect(excerpt.endsWith('…')).toBe(true);
    expect(safeExcerpt('abcdefghij', 5)).toBe('abcd…');
    expect(safeExcerpt('abcde', 5)).toBe('abcde');
  });

  it('counts characters, not UTF-16 units, so a cut never splits an emoji', () => {
    const excerpt = safeExcerpt('😀'.repeat(10), 4);
    expect(excerpt).toBe('😀😀😀…');
    expect(excerpt).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });

  it('does not leave a space before the ellipsis', () => {
    expect(safeExcerpt('abc def ghi', 5)).toBe('abc…');
  });

  it('never throws, whatever it is given', () => {
    expect(safeExcerpt('', 10)).toBe('');
    expect(safeExcerpt('abc', 0)).toBe('');
    expect(safeExcerpt('abc', -3)).toBe('');
    expect(safeExcerpt('abc', Number.NaN)).toBe('abc');
    expect(safeExcerpt(undefined as unknown as string)).toBe('');
    expect(safeExcerpt(42 as unknown as string)).toBe('42');
    const hostile = { toString: () => { throw new Error('boom'); } };
    expect(safeExcerpt(hostile as unknown as string)).toBe('');
  });

  it('stays fast on a large reply full of unclosed angle brackets', () => {
    const started = performance.now();
    const excerpt = safeExcerpt('<a'.repeat(200_000));
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(excerpt.length).toBeLessThanOrEqual(160);
  });
});
