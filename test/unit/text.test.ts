import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { assertSendableText, safeText, textProblem } from '../../shared/domain/text.js';
import { zodFields } from '../../shared/domain/zod-fields.js';
import { caught } from '../support/expect-error.js';

describe('textProblem', () => {
  it('accepts ordinary text in any script, emoji, newlines and tabs', () => {
    for (const text of ['Dear Rahim, your bill is due.', 'প্রিয় গ্রাহক, আপনার বিল ৫০০ টাকা', 'Paid 👍🏽 thanks', 'Line 1\nLine 2\tend', '', '\u00a0non-breaking and € ¥ ©']) {
      expect(textProblem(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('names a NUL character by its code point and 1-based position', () => {
    expect(textProblem('abcd\u0000')).toBe('contains a control character U+0000 at position 5; only newline and tab are allowed');
  });

  it('refuses every C0 control but newline and tab, DEL, and every C1 control', () => {
    const refused = [
      ...Array.from({ length: 0x20 }, (_, i) => i).filter((cp) => cp !== 0x0a && cp !== 0x09),
      0x7f,
      ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i),
    ];
    for (const cp of refused) {
      const hex = cp.toString(16).toUpperCase().padStart(4, '0');
      expect(textProblem(`ok ${String.fromCharCode(cp)}`), hex).toBe(`contains a control character U+${hex} at position 4; only newline and tab are allowed`);
    }
    expect(textProblem('\u00a0\u00ff\u2028')).toBeUndefined();
  });

  it('refuses a carriage return too: newline alone ends a line', () => {
    expect(textProblem('Hi\r\nthere')).toBe('contains a control character U+000D at position 3; only newline and tab are allowed');
  });

  it('counts a character outside the BMP (an emoji) as one position', () => {
    expect(textProblem('😀😀\u0001')).toBe('contains a control character U+0001 at position 3; only newline and tab are allowed');
  });

  it('refuses a lone surrogate, high or low, naming it and its position', () => {
    expect(textProblem('ab\ud800')).toBe('contains a lone surrogate U+D800 at position 3, which is not a character; send well-formed Unicode (UTF-8)');
    expect(textProblem('\udc00x')).toMatch(/^contains a lone surrogate U\+DC00 at position 1,/);
    expect(textProblem('x\udc00\ud800')).toMatch(/^contains a lone surrogate U\+DC00 at position 2,/);
    expect(textProblem('\ud83d\ude00')).toBeUndefined();
  });

  it('reports the first problem when there are several', () => {
    expect(textProblem('a\u0007b\u0000')).toMatch(/U\+0007 at position 2/);
  });
});

describe('safeText', () => {
  const Name = safeText(z.string().trim().min(1, 'must not be empty'));

  it('adds the rule to a string schema, keeping its own checks and transforms', () => {
    expect(Name.parse('  Rahim  ')).toBe('Rahim');
    expect(zodFields(z.object({ name: Name }).safeParse({ name: '' }).error!)).toEqual([{ field: 'name', message: 'must not be empty' }]);
  });

  it('names the field with the character and position', () => {
    const result = z.object({ name: Name }).safeParse({ name: 'Ra\u0000him' });
    expect(zodFields(result.error!)).toEqual([{ field: 'name', message: 'contains a control character U+0000 at position 3; only newline and tab are allowed' }]);
  });
});

describe('assertSendableText', () => {
  it('passes a text with something to send', () => {
    expect(() => assertSendableText('hi', 'text')).not.toThrow();
    expect(() => assertSendableText(' \n x', 'templateId')).not.toThrow();
  });

  it('refuses an empty or whitespace-only text on the text field', () => {
    for (const text of ['', ' ', '\n\t ', '\u00a0\u2003\u3000']) {
      const error = caught(() => assertSendableText(text, 'text'));
      expect(error.kind).toBe('Invalid');
      expect(error.fields).toEqual([{ field: 'text', message: 'must not be empty or only whitespace' }]);
    }
  });

  it('refuses a template that renders to whitespace only on the templateId field', () => {
    const error = caught(() => assertSendableText('   ', 'templateId'));
    expect(error.fields).toEqual([{ field: 'templateId', message: 'renders to an empty text (only whitespace) with these variables' }]);
  });

  it('refuses a rendered text with a control character, naming where it came from', () => {
    const error = caught(() => assertSendableText('Dear Ra\u0000him', 'templateId'));
    expect(error.fields).toEqual([{ field: 'templateId', message: 'renders a text that contains a control character U+0000 at position 8; only newline and tab are allowed' }]);
  });
});
