import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parse } from '../../functions/api/_middleware.js';
import { jsonBody } from '../../functions/api/middleware/json-body.js';
import type { ApiEvent } from '../../functions/api/middleware/types.js';
import { DomainError } from '../../shared/domain/errors.js';
import { CustomerImportRow, CustomerInput, GatewayInput, MessageQuery, ResourceId, SendMessage, TemplateInput } from '../../shared/domain/schemas.js';
import { zodFields } from '../../shared/domain/zod-fields.js';
import { TwilioCredentials } from '../../shared/adapters/providers/sms/twilio.js';
import { caught, rejection } from '../support/expect-error.js';

const problems = (schema: z.ZodType, value: unknown) => {
  const result = schema.safeParse(value);
  if (result.success) throw new Error(`expected ${JSON.stringify(value)} to be refused`);
  return zodFields(result.error);
};

describe('field errors for a value of the wrong type', () => {
  it('say "must be a string" for a number where a string belongs, not "is required"', () => {
    expect(problems(SendMessage, { customerId: 'c-1', text: 5 })).toEqual([{ field: 'text', message: 'must be a string' }]);
  });

  it('say "is required" only when the value is absent; null is a value of the wrong type', () => {
    expect(problems(CustomerInput, { name: 'X' })).toEqual([{ field: 'mobile', message: 'is required' }]);
    expect(problems(CustomerInput, { name: 'X', mobile: null })).toEqual([{ field: 'mobile', message: 'must be a string' }]);
  });

  it('say which type is expected: number, whole number, true or false, object, array', () => {
    const Shape = z.object({ n: z.number(), i: z.int(), b: z.boolean(), o: z.object({}), a: z.array(z.string()), r: z.record(z.string(), z.string()) });
    expect(problems(Shape, { n: 'x', i: 'x', b: 'yes', o: [], a: {}, r: 'x' })).toEqual([
      { field: 'n', message: 'must be a number' },
      { field: 'i', message: 'must be a whole number' },
      { field: 'b', message: 'must be true or false' },
      { field: 'o', message: 'must be an object' },
      { field: 'a', message: 'must be an array' },
      { field: 'r', message: 'must be an object' },
    ]);
    expect(problems(GatewayInput, { name: 'G', provider: 'sandbox', default: 'yes' })).toEqual([{ field: 'default', message: 'must be true or false' }]);
    expect(problems(GatewayInput, { name: 'G', provider: 'sandbox', settings: [] })).toEqual([{ field: 'settings', message: 'must be an object' }]);
  });

  it('name the allowed values of an enum', () => {
    expect(problems(CustomerInput, { name: 'X', mobile: '1', status: 'gone' })).toEqual([
      { field: 'status', message: 'must be one of: active, suspended, billed, expired' },
    ]);
  });

  it('keep the messages written on the schema itself', () => {
    expect(problems(CustomerInput, { name: 'X', mobile: '1', email: 5 })).toEqual([{ field: 'email', message: 'must be an e-mail address' }]);
    expect(problems(CustomerImportRow, { id: '-x', name: 'X', mobile: '1' })[0]!.message).toMatch(/^must be 1-64 letters/);
    expect(problems(MessageQuery, { from: 'yesterday' })).toEqual([{ field: 'from', message: 'must be an ISO 8601 date-time' }]);
    expect(problems(TemplateInput, { name: '  ', body: 'x' })).toEqual([{ field: 'name', message: 'must not be empty' }]);
    expect(problems(CustomerImportRow, { id: 7, name: 'X', mobile: '1' })).toEqual([{ field: 'id', message: 'must be a string' }]);
  });

  it('say the same in provider schemas, which share the one error map', () => {
    expect(zodFields(TwilioCredentials.safeParse({ accountSid: 5 }).error!, 'credentials')).toEqual(
      expect.arrayContaining([
        { field: 'credentials.accountSid', message: 'must be a string' },
        { field: 'credentials.authToken', message: 'is required' },
      ]),
    );
  });

  it('keep naming unknown fields', () => {
    expect(problems(SendMessage, { customerId: 'c-1', text: 'hi', colour: 'red' })).toEqual([{ field: 'colour', message: 'unknown field(s): colour' }]);
  });
});

describe('template variables in a request', () => {
  it('may be strings, numbers or booleans, and say so for anything else', () => {
    expect(problems(SendMessage, { customerId: 'c-1', templateId: 't', variables: { amount: { value: 1 } } })).toEqual([
      { field: 'variables.amount', message: 'must be a string, a number or true or false' },
    ]);
    expect(problems(SendMessage, { customerId: 'c-1', templateId: 't', variables: { amount: null } })).toEqual([
      { field: 'variables.amount', message: 'must be a string, a number or true or false' },
    ]);
  });

  it('explain a bad variable name on that name', () => {
    expect(problems(SendMessage, { customerId: 'c-1', templateId: 't', variables: { 'due-date': 'x' } })).toEqual([
      { field: 'variables.due-date', message: 'variable names are letters, digits and "_"' },
    ]);
  });

  it('keep a value to 1,000 characters, and free of control characters', () => {
    expect(problems(SendMessage, { customerId: 'c-1', templateId: 't', variables: { note: 'x'.repeat(1001) } })).toEqual([
      { field: 'variables.note', message: 'must be at most 1000 characters' },
    ]);
    expect(problems(SendMessage, { customerId: 'c-1', templateId: 't', variables: { note: 'a\u0000' } })).toEqual([
      { field: 'variables.note', message: 'contains a control character U+0000 at position 2; only newline and tab are allowed' },
    ]);
  });

  it('are at most 50 names', () => {
    const variables = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`v${i}`, i]));
    expect(SendMessage.safeParse({ customerId: 'c-1', templateId: 't', variables: variables(50) }).success).toBe(true);
    expect(problems(SendMessage, { customerId: 'c-1', templateId: 't', variables: variables(51) })).toEqual([
      { field: 'variables', message: 'must hold at most 50 variables (got 51)' },
    ]);
  });
});

describe('control characters in what people write', () => {
  const nul = 'contains a control character U+0000 at position 2; only newline and tab are allowed';

  it('are refused in a text, a template name and body, customer name, zone and package, and gateway name', () => {
    expect(problems(SendMessage, { customerId: 'c-1', text: 'a\u0000' })).toEqual([{ field: 'text', message: nul }]);
    expect(problems(TemplateInput, { name: 'a\u0000', body: 'b\u0000' })).toEqual([{ field: 'name', message: nul }, { field: 'body', message: nul }]);
    expect(problems(CustomerInput, { name: 'a\u0000', mobile: '1', zone: 'a\u0000', package: 'a\u0000' }).map((p) => p.field)).toEqual(['name', 'zone', 'package']);
    expect(problems(GatewayInput, { name: 'a\u0000', provider: 'sandbox' })).toEqual([{ field: 'name', message: nul }]);
  });
});

describe('parse (the API edge)', () => {
  it('names a path parameter by the field it is given', () => {
    const error = caught(() => parse(ResourceId, 'x'.repeat(70), 'customer id in the path', { field: 'id' }));
    expect(error.kind).toBe('Invalid');
    expect(error.message).toBe('The customer id in the path has invalid fields.');
    expect(error.fields).toEqual([{ field: 'id', message: expect.stringMatching(/^must be 1-64 letters/) }]);
  });

  it('answers "must be a JSON object" on body for an array, string, number, boolean or null body', () => {
    for (const body of [[], [1, 2], 'text', 5, true, null]) {
      const error = caught(() => parse(SendMessage, body));
      expect(error.fields, JSON.stringify(body)).toEqual([{ field: 'body', message: 'must be a JSON object' }]);
    }
  });

  it('answers "is required" on body when there is none', () => {
    expect(caught(() => parse(SendMessage, undefined)).fields).toEqual([{ field: 'body', message: 'is required' }]);
  });
});

describe('jsonBody (the API edge)', () => {
  const run = async (contentType: string | undefined, body: string) => {
    const event = { body, isBase64Encoded: false, headers: contentType === undefined ? {} : { 'content-type': contentType } } as unknown as ApiEvent;
    await jsonBody().before!({ event } as never);
    return event.jsonBody;
  };

  it('refuses another media type as UnsupportedMediaType (415), naming what it got', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/json-seq', 'application/jsonx', 'multipart/form-data; boundary=x']) {
      const error = await rejection(run(contentType, '{}'));
      expect(error, contentType).toBeInstanceOf(DomainError);
      expect((error as DomainError).kind, contentType).toBe('UnsupportedMediaType');
      expect(error.message).toContain(contentType.split(';')[0]);
    }
  });

  it('accepts application/json with parameters, any case, and +json types, and a body without a Content-Type', async () => {
    for (const contentType of ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON;charset=UTF-8', 'application/merge-patch+json', 'application/vnd.api+json ; charset=utf-8', undefined]) {
      expect(await run(contentType, '{"a":1}'), String(contentType)).toEqual({ a: 1 });
    }
  });

  it('refuses malformed JSON on body as Invalid (400)', async () => {
    const error = (await rejection(run('application/json', '{"a":'))) as DomainError;
    expect(error.kind).toBe('Invalid');
    expect(error.fields).toEqual([{ field: 'body', message: 'must be valid JSON' }]);
  });
});
