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
