/**
 * A local stand-in for Meta's WhatsApp Cloud API messages endpoint, for tests:
 * POST /{version}/{phone-number-id}/messages with a bearer token. It checks the token and the
 * phone number id, validates the body like the Cloud API (text or template, with a small template
 * catalogue), answers `{ messaging_product, contacts: [{ input, wa_id }], messages: [{ id }] }`,
 * and answers Meta's error JSON for numbers and tokens configured to fail.
 *
 * Numbers `+1555` followed by a seven-digit error code (errorNumber(131026) = +15550131026) fail
 * with that code, as Meta would; tokens in `errorTokens` fail with theirs.
 *
 * It also builds webhooks as Meta posts them (status changes and inbound messages), signed with
 * X-Hub-Signature-256 computed here independently of the adapter.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { WebhookRequest } from '../../shared/ports.js';
import { listenOnLoopback } from './net.js';

/** How Meta answers one error code: HTTP status, Graph error type, message and details. */
interface ErrorShape {
  status: number;
  type: string;
  message: string;
  details?: string;
  subcode?: number;
}

/** Meta's answers for the codes the fake knows (HTTP status 400 for most, as the Cloud API does). */
export const META_ERRORS: Record<number, ErrorShape> = {
  1: { status: 400, type: 'OAuthException', message: 'An unknown error occurred' },
  2: { status: 503, type: 'OAuthException', message: 'Service temporarily unavailable' },
  4: { status: 400, type: 'OAuthException', message: '(#4) Application request limit reached' },
  10: { status: 403, type: 'OAuthException', message: '(#10) Application does not have permission for this action' },
  100: { status: 400, type: 'OAuthException', message: '(#100) Invalid parameter', details: 'Parameter value is not valid' },
  190: { status: 401, type: 'OAuthException', message: 'Error validating access token: Session has expired.', subcode: 463 },
  200: { status: 403, type: 'OAuthException', message: '(#200) Permissions error' },
  368: { status: 400, type: 'OAuthException', message: '(#368) Temporarily blocked for policies violations' },
  80007: { status: 429, type: 'OAuthException', message: '(#80007) There have been too many calls to this WhatsApp Business account.' },
  130429: { status: 429, type: 'OAuthException', message: '(#130429) Rate limit hit', details: 'Cloud API message throughput has been reached.' },
  131000: { status: 500, type: 'OAuthException', message: '(#131000) Something went wrong', details: 'Something went wrong' },
  131008: { status: 400, type: 'OAuthException', message: '(#131008) Required parameter is missing' },
  131009: { status: 400, type: 'OAuthException', message: '(#131009) Parameter value is not valid' },
  131026: { status: 400, type: 'OAuthException', message: '(#131026) Message Undeliverable.', details: 'Message Undeliverable.' },
  131031: { status: 400, type: 'OAuthException', message: '(#131031) Business Account locked' },
  131042: { status: 400, type: 'OAuthException', message: '(#131042) Business eligibility payment issue' },
  131047: {
    status: 400,
    type: 'OAuthException',
    message: '(#131047) Re-engagement message',
    details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
  },
  131048: { status: 400, type: 'OAuthException', message: '(#131048) Spam rate limit hit' },
  131051: { status: 400, type: 'OAuthException', message: '(#131051) Unsupported message type' },
  131056: { status: 400, type: 'OAuthException', message: '(#131056) (Business Account, Consumer Account) pair rate limit hit' },
  132000: { status: 400, type: 'OAuthException', message: '(#132000) Number of parameters does not match the expected number of params' },
  132001: { status: 400, type: 'OAuthException', message: '(#132001) Template name does not exist in the translation' },
  132005: { status: 400, type: 'OAuthException', message: '(#132005) Translated text too long' },
  132007: { status: 400, type: 'OAuthException', message: '(#132007) Template Format Character Policy Violated' },
  132012: { status: 400, type: 'OAuthException', message: '(#132012) Parameter format does not match format in the created template' },
  133010: { status: 400, type: 'OAuthException', message: '(#133010) Account not registered' },
};

/** A number the fake answers with Meta error `code`: +1555 and the code in seven digits. */
export function errorNumber(code: number): string {
  return `+1555${String(code).padStart(7, '0')}`;
}

export interface FakeMetaTemplate {
  language: string;
  /** How many {{n}} body parameters it has. */
  parameters: number;
}

export interface FakeMetaOptions {
  accessToken: string;
  phoneNumberId: string;
  /** Tokens answered with an error code (e.g. an expired one with 190). */
  errorTokens?: Record<string, number>;
  /** Approved templates by name. Default: due_reminder (en, 2 parameters) and welcome (en, none). */
  templates?: Record<string, FakeMetaTemplate>;
}

export interface FakeMetaRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  /** The body parsed as JSON, when it was JSON. */
  json?: unknown;
  replyStatus: number;
  replyBody: unknown;
}

export interface FakeMeta {
  baseUrl: string;
  requests: FakeMetaRequest[];
  /** The next n requests answer Meta error `code` (default 131000, a 500). */
  failNext(n: number, code?: number): void;
  close(): Promise<void>;
}

const DEFAULT_TEMPLATES: Record<string, FakeMetaTemplate> = {
  due_reminder: { language: 'en', parameters: 2 },
  welcome: { language: 'en', parameters: 0 },
};

function errorBody(code: number, overrides: Partial<ErrorShape> = {}): { status: number; body: unknown } {
  const shape = { ...(META_ERRORS[code] ?? { status: 400, type: 'OAuthException', message: `(#${code}) Error` }), ...overrides };
  return {
    status: shape.status,
    body: {
      error: {
        message: shape.message,
        type: shape.type,
        code,
        ...(shape.subcode !== undefined ? { error_subcode: shape.subcode } : {}),
        ...(shape.details !== undefined ? { error_data: { messaging_product: 'whatsapp', details: shape.details } } : {}),
        fbtrace_id: `A${randomBytes(9).toString('base64url')}`,
      },
    },
  };
}

const invalidParameter = (details: string) => errorBody(100, { details });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a send body like the Cloud API; the error to answer, or undefined when it is fine. */
function validate(body: unknown, templates: Record<string, FakeMetaTemplate>): { status: number; body: unknown } | undefined {
  if (!isObject(body)) return invalidParameter('The request body is not a JSON object');
  if (body.messaging_product !== 'whatsapp') return invalidParameter('The parameter messaging_product is required and must be whatsapp.');
  if (body.recipient_type !== undefined && body.recipient_type !== 'individual') return invalidParameter('recipient_type must be individual');
  if (typeof body.to !== 'string' || !/^\d{7,15}$/.test(body.to)) return invalidParameter('The parameter to must be a phone number in digits.');
  const to = body.to;
  const numberCode = /^1555(\d{7})$/.exec(to)?.[1];
  if (numberCode && META_ERRORS[Number(numberCode)]) return errorBody(Number(numberCode));

  if (body.type === 'text') {
    const text = body.text;
    if (!isObject(text) || typeof text.body !== 'string' || text.body === '') return errorBody(131008, { details: 'The parameter text[body] is required.' });
    if (text.body.length > 4096) return invalidParameter('text[body] is longer than 4096 characters');
    if (text.preview_url !== undefined && typeof text.preview_url !== 'boolean') return invalidParameter('text[preview_url] must be a boolean');
    return undefined;
  }
  if (body.type === 'template') {
    const template = body.template;
    if (!isObject(template) || typeof template.name !== 'string') return errorBody(131008, { details: 'The parameter template[name] is required.' });
    const language = template.language;
    if (!isObject(language) || typeof language.code !== 'string') return errorBody(131008, { details: 'The parameter template[language][code] is required.' });
    const known = templates[template.name];
    if (!known || known.language !== language.code) {
      return errorBody(132001, { details: `template name (${template.name}) does not exist in ${language.code}` });
    }
    let count = 0;
    if (template.components !== undefined) {
      if (!Array.isArray(template.components)) return invalidParameter('template[components] must be an array');
      for (const component of template.components as unknown[]) {
        if (!isObject(component) || component.type !== 'body' || !Array.isArray(component.parameters)) {
          return invalidParameter('each template component must be { type: "body", parameters: [...] } here');
        }
        for (const parameter of component.parameters as unknown[]) {
          if (!isObject(parameter) || parameter.type !== 'text' || typeof parameter.text !== 'string' || parameter.text === '') {
            return invalidParameter('each body parameter must be { type: "text", text: "<non-empty>" }');
          }
          count += 1;
        }
      }
    }
    if (count !== known.parameters) {
      return errorBody(132000, { details: `body: number of localizable_params (${count}) does not match the expected number of params (${known.parameters})` });
    }
    return undefined;
  }
  return errorBody(131051, { details: `Message type ${String(body.type)} is not supported.` });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startFakeMeta(opts: FakeMetaOptions): Promise<FakeMeta> {
  const templates = opts.templates ?? DEFAULT_TEMPLATES;
  const requests: FakeMetaRequest[] = [];
  let failures = { remaining: 0, code: 131000 };

  function answer(req: IncomingMessage, rawBody: string, json: unknown): { status: number; body: unknown } {
    if (failures.remaining > 0) {
      failures.remaining -= 1;
      return errorBody(failures.code);
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (token !== undefined && opts.errorTokens && Object.hasOwn(opts.errorTokens, token)) return errorBody(opts.errorTokens[token]!);
    if (token !== opts.accessToken) {
      return errorBody(190, { message: 'Invalid OAuth access token - Cannot parse access token', subcode: undefined });
    }
    const path = /^\/(v\d+\.\d+)\/([^/?]+)\/messages$/.exec(new URL(req.url ?? '/', 'http://fake').pathname);
    if (!path) return { status: 400, body: { error: { message: 'Unknown path components', type: 'OAuthException', code: 2500, fbtrace_id: 'Afake' } } };
    if (req.method !== 'POST') return invalidParameter('Only POST is supported here');
    if (path[2] !== opts.phoneNumberId) {
      return errorBody(100, {
        subcode: 33,
        message: `Unsupported post request. Object with ID '${path[2]}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
        details: undefined,
      });
    }
    if (json === undefined) return invalidParameter(rawBody === '' ? 'The request has no body' : 'The request body is not JSON');
    const problem = validate(json, templates);
    if (problem) return problem;
    const to = (json as { to: string }).to;
    return {
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        contacts: [{ input: to, wa_id: to }],
        messages: [{ id: `wamid.${Buffer.from(`fake-${randomBytes(12).toString('hex')}`).toString('base64')}` }],
      },
    };
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    readBody(req).then(
      (rawBody) => {
        let json: unknown;
        try {
          json = rawBody === '' ? undefined : (JSON.parse(rawBody) as unknown);
        } catch {
          json = undefined;
        }
        const { status, body } = answer(req, rawBody, json);
        requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: { ...req.headers },
          rawBody,
          ...(json !== undefined ? { json } : {}),
          replyStatus: status,
          replyBody: body,
        });
        res.writeHead(status, {
          'content-type': 'application/json; charset=UTF-8',
          ...(status === 401 ? { 'www-authenticate': 'OAuth "Facebook Platform" "invalid_token"' } : {}),
        });
        res.end(JSON.stringify(body));
      },
      () => {
        res.writeHead(400);
        res.end();
      },
    );
  });
  const port = await listenOnLoopback(server);

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    failNext(n, code = 131000) {
      failures = { remaining: n, code };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

// ---- webhooks as Meta posts them ----

export interface MetaWebhookTarget {
  phoneNumberId: string;
  businessAccountId: string;
  displayPhoneNumber?: string;
}

export interface FakeStatus {
  id: string;
  status: 'sent' | 'delivered' | 'read' | 'failed' | 'deleted' | 'warning';
  /** Unix seconds. Default 1750857384. */
  timestamp?: number;
  recipientId?: string;
  error?: { code: number; title: string; details?: string };
}

export type FakeInbound =
  | { type: 'text'; id: string; from: string; timestamp: number; body: string }
  | { type: 'button'; id: string; from: string; timestamp: number; text: string; payload?: string }
  | { type: 'button_reply' | 'list_reply'; id: string; from: string; timestamp: number; title: string; replyId?: string }
  | { type: 'image'; id: string; from: string; timestamp: number; caption?: string };

/** The `value` of a `messages` change, with its metadata. */
function changeValue(target: MetaWebhookTarget, extra: Record<string, unknown>) {
  return {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: target.displayPhoneNumber ?? '15550783881', phone_number_id: target.phoneNumberId },
    ...extra,
  };
}

const envelope = (target: MetaWebhookTarget, value: unknown) => ({
  object: 'whatsapp_business_account',
  entry: [{ id: target.businessAccountId, changes: [{ value, field: 'messages' }] }],
});

/** A status notification body as Meta posts it. */
export function statusPayload(target: MetaWebhookTarget, statuses: FakeStatus[]): unknown {
  return envelope(
    target,
    changeValue(target, {
      statuses: statuses.map((s) => ({
        id: s.id,
        status: s.status,
        timestamp: String(s.timestamp ?? 1750857384),
        recipient_id: s.recipientId ?? '8801711000001',
        ...(s.status === 'sent' || s.status === 'delivered'
          ? { pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'utility' } }
          : {}),
        ...(s.error
          ? {
              errors: [
                {
                  code: s.error.code,
                  title: s.error.title,
                  message: s.error.title,
                  ...(s.error.details ? { error_data: { details: s.error.details } } : {}),
                  href: '/documentation/business-messaging/whatsapp/support/error-codes',
                },
              ],
            }
          : {}),
      })),
    }),
  );
}

/** An inbound-message notification body as Meta posts it (with the sender's contact). */
export function inboundPayload(target: MetaWebhookTarget, messages: FakeInbound[], profileName = 'Rahim Uddin'): unknown {
  return envelope(
    target,
    changeValue(target, {
      contacts: [...new Set(messages.map((m) => m.from))].map((from) => ({ profile: { name: profileName }, wa_id: from })),
      messages: messages.map((m) => {
        const common = { from: m.from, id: m.id, timestamp: String(m.timestamp) };
        switch (m.type) {
          case 'text':
            return { ...common, type: 'text', text: { body: m.body } };
          case 'button':
            return { ...common, context: { from: '15550783881', id: 'wamid.CONTEXT' }, type: 'button', button: { payload: m.payload ?? m.text, text: m.text } };
          case 'button_reply':
            return { ...common, context: { from: '15550783881', id: 'wamid.CONTEXT' }, type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: m.replyId ?? 'btn-1', title: m.title } } };
          case 'list_reply':
            return { ...common, context: { from: '15550783881', id: 'wamid.CONTEXT' }, type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: m.replyId ?? 'row-1', title: m.title } } };
          case 'image':
            return { ...common, type: 'image', image: { ...(m.caption ? { caption: m.caption } : {}), mime_type: 'image/jpeg', sha256: 'abc', id: '2754859441498128' } };
        }
      }),
    }),
  );
}

/** X-Hub-Signature-256 for a body, written independently of shared/adapters/providers/whatsapp/meta.ts. */
export function hubSignature(appSecret: string, rawBody: string): string {
  const hmac = createHmac('sha256', Buffer.from(appSecret, 'utf8'));
  hmac.update(Buffer.from(rawBody, 'utf8'));
  return `sha256=${hmac.digest('hex')}`;
}

/** A webhook POST as Meta sends it: JSON body, signed with the app secret. */
export function signedWebhook(appSecret: string, url: string, payload: unknown): WebhookRequest {
  const rawBody = JSON.stringify(payload);
  return {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', 'user-agent': 'facebookexternalua', 'x-hub-signature-256': hubSignature(appSecret, rawBody) },
    rawBody,
  };
}
