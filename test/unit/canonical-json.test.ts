import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../shared/domain/canonical-json.js';

describe('canonicalJson', () => {
  it('writes the same text whatever order the keys came in, at every depth', () => {
    const a = { send: { customerId: 'c-1', variables: { amount: 500, dueDate: '1 Dec' }, templateId: 't' } };
    const b = { send: { templateId: 't', variables: { dueDate: '1 Dec', amount: 500 }, customerId: 'c-1' } };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(b)).toBe('{"send":{"customerId":"c-1","templateId":"t","variables":{"amount":500,"dueDate":"1 Dec"}}}');
  });

  it('sorts keys by UTF-16 code units, integer-like keys included', () => {
    expect(canonicalJson({ b: 1, 10: 2, 2: 3, A: 4, é: 5 })).toBe('{"10":2,"2":3,"A":4,"b":1,"é":5}');
  });

  it('keeps arrays in order and sorts the objects inside them', () => {
    expect(canonicalJson([{ b: 1, a: 2 }, 3, 'x'])).toBe('[{"a":2,"b":1},3,"x"]');
  });

  it('drops undefined object values and writes undefined array items as null, like JSON.stringify', () => {
    expect(canonicalJson({ a: undefined, b: [undefined, 1], c: null })).toBe('{"b":[null,1],"c":null}');
    expect(canonicalJson(undefined)).toBeUndefined();
  });

  it('keeps an own "__proto__" key as data', () => {
    expect(canonicalJson(JSON.parse('{"z":1,"__proto__":{"x":1}}'))).toBe('{"__proto__":{"x":1},"z":1}');
  });

  it('writes strings, numbers and dates as JSON.stringify does', () => {
    expect(canonicalJson({ s: 'a"\n\u0000', n: 1e21, f: 0.1, d: new Date(0), nan: NaN })).toBe(
      JSON.stringify({ d: new Date(0), f: 0.1, n: 1e21, nan: NaN, s: 'a"\n\u0000' }),
    );
  });
});
