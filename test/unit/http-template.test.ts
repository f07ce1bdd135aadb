import { describe, expect, it } from 'vitest';
import { formatNumber, isJsonPath, readJsonPath, renderJson, renderTemplate, templateVariables, type TemplateView } from '../../shared/adapters/providers/sms/http-template.js';

const view: TemplateView = {
  to: '8801711223344',
  text: 'Bill <500> & "due" \'now\' {{x}}',
  sender: 'ISP',
  messageId: '01JN',
  credentials: { apiKey: 'k/e y&=' },
};

describe('renderTemplate', () => {
  it('inserts values as they are: no HTML escaping, and tags inside values are not expanded', () => {
    expect(renderTemplate('{{text}}', view)).toBe('Bill <500> & "due" \'now\' {{x}}');
    expect(renderTemplate('{{{text}}}|{{& sender}}', view)).toBe('Bill <500> & "due" \'now\' {{x}}|ISP');
    expect(renderTemplate('key={{credentials.apiKey}}', view)).toBe('key=k/e y&=');
  });

  it('applies the encoder to values only, never to the template text', () => {
    expect(renderTemplate('/v1/{{credentials.apiKey}}/send?x=1&y', view, encodeURIComponent)).toBe('/v1/k%2Fe%20y%26%3D/send?x=1&y');
  });

  it('resolves nothing from the prototype chain', () => {
    expect(renderTemplate('[{{constructor}}][{{credentials.constructor}}][{{toString}}]', view)).toBe('[][][]');
  });

  it('renders every string leaf of JSON and keeps other leaves', () => {
    expect(renderJson({ to: ['{{to}}'], n: 1, ok: true, nested: { t: '{{sender}}' }, none: null }, view)).toEqual({ to: ['8801711223344'], n: 1, ok: true, nested: { t: 'ISP' }, none: null });
  });
});

describe('templateVariables', () => {
  it('lists the variables of plain tags', () => {
    expect(templateVariables('{{to}} {{{text}}} {{credentials.apiKey}}')).toEqual({ variables: ['to', 'text', 'credentials.apiKey'] });
  });

  it('refuses unknown variables, sections, partials and broken templates', () => {
    expect(templateVariables('{{customer}}')).toMatchObject({ problem: expect.stringContaining('{{customer}}') });
    expect(templateVariables('{{constructor}}')).toHaveProperty('problem');
    expect(templateVariables('{{credentials.}}')).toHaveProperty('problem');
    expect(templateVariables('{{#to}}x{{/to}}')).toHaveProperty('problem');
    expect(templateVariables('{{> partial}}')).toHaveProperty('problem');
    expect(templateVariables('{{to')).toHaveProperty('problem');
  });
});

describe('readJsonPath', () => {
  const doc = { a: { b: [{ c: 'x' }, { c: 7 }] }, status: 'success', 'with-dash': 1 };

  it('reads $.a.b[0].c paths', () => {
    expect(readJsonPath(doc, '$.a.b[0].c')).toBe('x');
    expect(readJsonPath(doc, '$.a.b[1].c')).toBe(7);
    expect(readJsonPath(doc, '$.status')).toBe('success');
    expect(readJsonPath(doc, '$.with-dash')).toBe(1);
    expect(readJsonPath(doc, '$')).toBe(doc);
  });

  it('gives undefined for what is not there, for inherited properties and for other syntax', () => {
    expect(readJsonPath(doc, '$.a.b[5].c')).toBeUndefined();
    expect(readJsonPath(doc, '$.a.x')).toBeUndefined();
    expect(readJsonPath(doc, '$.status.length')).toBeUndefined();
    expect(readJsonPath(doc, '$.constructor')).toBeUndefined();
    expect(readJsonPath('text', '$.a')).toBeUndefined();
    expect(isJsonPath('$..a')).toBe(false);
    expect(isJsonPath('$.a[*]')).toBe(false);
    expect(isJsonPath('a.b')).toBe(false);
    expect(readJsonPath(doc, '$["status"]')).toBeUndefined();
  });
});

describe('formatNumber', () => {
  it('writes E.164, digits and the national number', () => {
    expect(formatNumber('+8801711223344', 'e164')).toBe('+8801711223344');
    expect(formatNumber('+8801711223344', 'digits')).toBe('8801711223344');
    expect(formatNumber('+8801711223344', 'national')).toBe('01711223344');
    expect(formatNumber('+9779841234567', 'national')).toBe('9841234567');
    expect(formatNumber('+233241234567', 'national')).toBe('0241234567');
    expect(formatNumber('+919876543210', 'national')).toBe('09876543210');
  });
});
