import { describe, it, expect } from 'vitest';
import Mustache from 'mustache';
import { renderTemplate, templateVariables } from '../../shared/domain/template.js';
import { caught } from '../support/expect-error.js';

describe('renderTemplate', () => {
  it('fills in the variables', () => {
    expect(renderTemplate('Dear {{name}}, your bill of {{amount}} Tk is due on {{dueDate}}.', {
      name: 'Rahim',
      amount: 500,
      dueDate: '2025-07-10',
    })).toBe('Dear Rahim, your bill of 500 Tk is due on 2025-07-10.');
  });

  it('writes values as plain text without HTML escaping', () => {
    expect(renderTemplate('{{name}} <{{email}}> "{{quote}}"', { name: 'A&B', email: 'a@b.io', quote: "it's" })).toBe(
      'A&B <a@b.io> "it\'s"',
    );
  });

  it('leaves the global Mustache.escape untouched', () => {
    const before = Mustache.escape;
    renderTemplate('{{name}}', { name: 'A&B' });
    expect(Mustache.escape).toBe(before);
    expect(Mustache.render('{{name}}', { name: 'A&B' })).toBe('A&amp;B');
  });

  it('renders non-ASCII text and values as given', () => {
    expect(renderTemplate('প্রিয় {{name}}, আপনার বিল {{amount}} টাকা', { name: 'রহিম', amount: '৫০০' })).toBe(
      'প্রিয় রহিম, আপনার বিল ৫০০ টাকা',
    );
  });

  it('reads dotted names from nested objects', () => {
    expect(renderTemplate('{{customer.name}} owes {{invoice.total}}', {
      customer: { name: 'Karim' },
      invoice: { total: 1200 },
    })).toBe('Karim owes 1200');
  });

  it('lists every missing variable, once each, in the message and in the fields', () => {
    const error = caught(() => renderTemplate('{{a}} {{b}} {{c}} {{a}}', { b: 'x', c: null }));
    expect(error.kind).toBe('Invalid');
    expect(error.message).toBe('Template variables missing: a, c');
    expect(error.fields).toEqual([
      { field: 'variables.a', message: 'is required by the template' },
      { field: 'variables.c', message: 'is required by the template' },
    ]);
  });

  it('reports a missing dotted name by its full path', () => {
    const error = caught(() => renderTemplate('{{customer.name}}', { customer: {} }));
    expect(error.message).toBe('Template variables missing: customer.name');
    expect(error.fields).toEqual([{ field: 'variables.customer.name', message: 'is required by the template' }]);
  });

  it('accepts empty strings, zero and false as given values', () => {
    expect(renderTemplate('[{{a}}][{{b}}][{{c}}]', { a: '', b: 0, c: false })).toBe('[][0][false]');
  });

  it('requires a section name and reads names inside the section from its value', () => {
    const template = '{{#plan}}Plan {{name}}: {{speed}}{{/plan}}';
    expect(renderTemplate(template, { plan: { name: 'Home', speed: '20 Mbps' } })).toBe('Plan Home: 20 Mbps');
    expect(caught(() => renderTemplate(template, {})).message).toBe('Template variables missing: plan');
    expect(caught(() => renderTemplate(template, { plan: { name: 'Home' } })).message).toBe(
      'Template variables missing: speed',
    );
  });

  it('skips a section whose value is false without asking for the names inside it', () => {
    expect(renderTemplate('Due{{#late}} with fee {{fee}}{{/late}}.', { late: false })).toBe('Due.');
    expect(renderTemplate('{{^paid}}Please pay {{amount}}.{{/paid}}', { paid: false, amount: 300 })).toBe(
      'Please pay 300.',
    );
  });

  it('refuses a template with an unclosed tag on the template field', () => {
    const error = caught(() => renderTemplate('Hello {{name', { name: 'x' }));
    expect(error.kind).toBe('Invalid');
    expect(error.fields.map((f) => f.field)).toEqual(['template']);
    expect(error.message).toMatch(/^The template cannot be read: Unclosed tag at 12\./);
  });

  it('refuses a template with an unclosed section on the template field', () => {
    const error = caught(() => renderTemplate('{{#late}}fee', { late: true }));
    expect(error.fields.map((f) => f.field)).toEqual(['template']);
    expect(error.message).toContain('Unclosed section "late"');
  });

  it('refuses partials, which have nothing to load', () => {
    const error = caught(() => renderTemplate('Hi {{> footer}}', {}));
    expect(error.fields.map((f) => f.field)).toEqual(['template']);
  });
});

describe('renderTemplate reads only the data\'s own properties', () => {
  const data = { amount: 500, customer: { id: 'c-1', name: 'Rahim', zone: 'Mirpur' }, operator: { name: 'Demo ISP' } };
  const inherited = ['constructor', '__defineGetter__', 'valueOf', 'toString', 'hasOwnProperty', 'isPrototypeOf', '__proto__', 'customer.constructor', 'customer.toString', 'customer.name.constructor', 'customer.name.length', 'amount.toFixed'];

  it('treats names inherited from a prototype as missing variables, in every kind of tag', () => {
    for (const name of inherited) {
      for (const template of [`Hi {{${name}}}`, `Hi {{{${name}}}}`, `Hi {{&${name}}}`, `{{#${name}}}x{{/${name}}}`, `{{^${name}}}x{{/${name}}}`]) {
        const error = caught(() => renderTemplate(template, data));
        expect(error.kind, template).toBe('Invalid');
        expect(error.fields, template).toEqual([{ field: `variables.${name}`, message: 'is required by the template' }]);
      }
    }
  });

  it('treats inherited names as missing inside a section too', () => {
    const error = caught(() => renderTemplate('{{#customer}}{{name}} {{constructor}}{{/customer}}', data));
    expect(error.fields).toEqual([{ field: 'variables.constructor', message: 'is required by the template' }]);
  });

  it('still finds own properties named like Object.prototype members', () => {
    expect(renderTemplate('{{constructor}} {{toString}} {{customer.valueOf}}', { constructor: 'a', toString: 'b', customer: { valueOf: 'c' } })).toBe('a b c');
  });

  it('refuses a name that is an object in a plain tag, pointing to one of its fields', () => {
    for (const template of ['Dear {{customer}}', 'Dear {{{customer}}}', 'Dear {{&customer}}']) {
      const error = caught(() => renderTemplate(template, data));
      expect(error.kind).toBe('Invalid');
      expect(error.fields, template).toEqual([{ field: 'variables.customer', message: 'is an object; use one of its fields, such as customer.name' }]);
      expect(error.message).toBe('Template variables that are not text: customer');
    }
    expect(caught(() => renderTemplate('{{operator}}', data)).fields[0]!.message).toBe('is an object; use one of its fields, such as operator.name');
    expect(caught(() => renderTemplate('{{plan}}', { plan: { speed: 20 } })).fields[0]!.message).toBe('is an object; use one of its fields, such as plan.speed');
  });

  it('refuses a list or a function in a plain tag', () => {
    expect(caught(() => renderTemplate('{{items}}', { items: ['a'] })).fields).toEqual([
      { field: 'variables.items', message: 'is a list; write its items with a section, {{#items}}…{{/items}}' },
    ]);
    expect(caught(() => renderTemplate('{{fn}}', { fn: () => 'x' })).fields).toEqual([
      { field: 'variables.fn', message: 'is a function, which a template cannot use' },
    ]);
  });

  it('never calls a function in the data, not even as a section', () => {
    let called = false;
    const fn = () => {
      called = true;
      return 'x';
    };
    expect(caught(() => renderTemplate('{{#fn}}x{{/fn}}', { fn })).fields[0]!.field).toBe('variables.fn');
    expect(called).toBe(false);
  });

  it('refuses {{.}} where it is an object, on the template field', () => {
    const error = caught(() => renderTemplate('{{.}}', data));
    expect(error.fields).toEqual([{ field: 'template', message: '{{.}} is an object here; use one of its fields, such as {{amount}}' }]);
    expect(renderTemplate('{{#tags}}[{{.}}]{{/tags}}', { tags: ['a', 'b'] })).toBe('[a][b]');
  });

  it('reports missing names and object names together', () => {
    const error = caught(() => renderTemplate('{{customer}} {{due}}', data));
    expect(error.message).toBe('Template variables missing: due. Template variables that are not text: customer');
    expect(error.fields.map((f) => f.field)).toEqual(['variables.due', 'variables.customer']);
  });

  it('keeps sections over objects, lists, strings and true working', () => {
    expect(renderTemplate('{{#customer}}Dear {{name}} of {{operator.name}}{{/customer}}', data)).toBe('Dear Rahim of Demo ISP');
    expect(renderTemplate('{{#rows}}{{n}};{{/rows}}', { rows: [{ n: 1 }, { n: 2 }] })).toBe('1;2;');
    expect(renderTemplate('{{#note}}Note: {{.}}{{/note}}', { note: 'pay today' })).toBe('Note: pay today');
    expect(renderTemplate('{{#late}}Late fee {{fee}}{{/late}}', { late: true, fee: 50 })).toBe('Late fee 50');
    expect(renderTemplate('{{#rows}}{{n}}{{/rows}}none', { rows: [] })).toBe('none');
  });

  it('does not write "[object Object]" or a function\'s source for any name', () => {
    for (const name of inherited) {
      try {
        const text = renderTemplate(`{{${name}}}`, data);
        expect(text).not.toMatch(/\[object |function /);
      } catch {
        // refused: fine
      }
    }
  });
});

describe('templateVariables', () => {
  it('lists the distinct names in order of first use, including dotted and section names', () => {
    expect(templateVariables('{{name}} {{{raw}}} {{&amp}} {{customer.name}} {{#plan}}{{speed}}{{.}}{{/plan}}{{^paid}}!{{/paid}} {{name}}{{! note }}')).toEqual([
      'name',
      'raw',
      'amp',
      'customer.name',
      'plan',
      'speed',
      'paid',
    ]);
  });

  it('returns no names for plain text', () => {
    expect(templateVariables('Your payment was received. Thank you!')).toEqual([]);
  });

  it('refuses a template with a syntax error on the template field', () => {
    const error = caught(() => templateVariables('{{/plan}}'));
    expect(error.kind).toBe('Invalid');
    expect(error.fields.map((f) => f.field)).toEqual(['template']);
  });
});
