/**
 * The generic HTTP gateway (provider `http`): any SMS gateway with an HTTP API, described entirely
 * by its settings, so a gateway (or a ready preset, shared/presets) is data, not code.
 *
 * - `request`: method, URL, content type, headers, query and body. Every string in them is a
 *   Mustache template with {{to}}, {{text}}, {{sender}}, {{messageId}} and {{credentials.<field>}};
 *   values go in as they are and the request builder encodes them (URL path segments, query,
 *   form or JSON), never string concatenation. The URL's origin (scheme, host, port) is never
 *   templated: only its path and query may be.
 * - Every call goes through the outbound URL guard (guardedFetch: https only, public addresses,
 *   10 s, 256 KiB, no redirects followed so header secrets never travel); a URL the guard refuses
 *   is a GatewayFault (the gateway's configuration is wrong). saveGateway checks the URL with
 *   checkOutboundUrl when it is saved.
 * - `success` says what an accepted message looks like (status codes, optionally a JSON path and
 *   the value there; or a regex on the body), `messageId` where the gateway's id is (else ours).
 * - Failures: the first `errors` rule that matches (status code and/or body regex) decides; by
 *   default 408/425/429/5xx are temporary, 401/403 the gateway's fault, other 4xx the recipient's,
 *   and a 2xx that fails the success check the recipient's.
 * - Receipts (optional `receipt`): the gateway calls the webhook URL with ?token=<webhookSecret>;
 *   id and status are read from a JSON body, a form body or the query.
 */
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import type { ProviderStatusUpdate, SmsProvider, WebhookRequest } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { guardedFetch, OutboundUrlRefused, type GuardedResponse } from '../../outbound/url-guard.js';
import { verifyUrlToken } from '../http.js';
import {
  CREDENTIAL_FIELD,
  formatNumber,
  isJsonPath,
  jsonStrings,
  readJsonPath,
  renderJson,
  renderTemplate,
  scalarText,
  templateVariables,
  type TemplateView,
} from './http-template.js';

const MAX_TEMPLATE = 2000;
const Template = z.string().max(MAX_TEMPLATE, `must be at most ${MAX_TEMPLATE} characters`);
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
const FORBIDDEN_HEADERS = ['host', 'content-length', 'transfer-encoding', 'connection'];
const FieldName = z.string().min(1).max(100);
const JsonPath = z.string().max(200).refine(isJsonPath, { message: 'must be a JSON path such as $.data.id or $.messages[0].id' });

function isSafeRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}
const Regex = z.string().min(1).max(200).refine(isSafeRegex, { message: 'must be a valid regular expression' });

/** The URL's origin part: everything before the first /, ? or # after "scheme://". */
export function urlOriginPart(url: string): string | undefined {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*)/.exec(url);
  return match?.[1];
}

/** The URL template with every tag replaced by a placeholder: what checkOutboundUrl is asked about. */
export function urlForCheck(url: string): string {
  return url.replace(/\{\{\{?[^}]*\}?\}\}/g, 'x');
}

export const HttpGatewayRequest = z.strictObject({
  method: z.enum(['GET', 'POST']),
  url: Template.describe('https URL; its path and query may use templates, its scheme, host and port may not.'),
  contentType: z.enum(['form', 'json']).default('form').describe('How a POST body is encoded: application/x-www-form-urlencoded or application/json.'),
  headers: z.record(z.string().regex(HEADER_NAME, 'must be an HTTP header name'), Template).optional(),
  query: z.record(FieldName, Template).optional().describe('Query parameters added to the URL (values URL-encoded).'),
  body: z.json().optional().describe('form: an object of templates; json: any JSON whose strings are templates.'),
});

export const HttpGatewaySettings = z
  .strictObject({
    request: HttpGatewayRequest,
    sender: z.string().trim().max(100).optional().describe('{{sender}}: the sender id or number the gateway allocated.'),
    numberFormat: z.enum(['e164', 'digits', 'national']).default('e164').describe('{{to}}: e164 (+8801711223344), digits (8801711223344) or national (01711223344).'),
    success: z
      .union([
        z.strictObject({ statusCodes: z.array(z.number().int().min(100).max(599)).min(1).max(20), jsonPath: JsonPath.optional(), equals: z.string().max(200).optional() }),
        z.strictObject({ regex: Regex }),
      ])
      .default({ statusCodes: [200, 201, 202] }),
    messageId: z.union([z.strictObject({ jsonPath: JsonPath }), z.strictObject({ regex: Regex })]).optional(),
    receipt: z
      .strictObject({
        idField: FieldName,
        statusField: FieldName,
        delivered: z.array(z.string().min(1).max(100)).min(1).max(20),
        failed: z.array(z.string().min(1).max(100)).max(20).default([]),
      })
      .optional(),
    errors: z
      .array(
        z.strictObject({
          match: z.strictObject({ statusCode: z.number().int().min(100).max(599).optional(), regex: Regex.optional() }),
          kind: z.enum(['recipient', 'gateway', 'temporary']),
        }),
      )
      .max(50)
      .optional(),
  })
  .superRefine((settings, ctx) => {
    const { request } = settings;
    const origin = urlOriginPart(request.url);
    if (!origin) {
      ctx.addIssue({ code: 'custom', path: ['request', 'url'], message: 'must be an absolute URL such as https://api.example.com/send' });
    } else if (origin.includes('{{')) {
      ctx.addIssue({ code: 'custom', path: ['request', 'url'], message: 'must not use templates in its scheme, host or port: only the path and query may be templated' });
    } else if (!URL.canParse(urlForCheck(request.url))) {
      ctx.addIssue({ code: 'custom', path: ['request', 'url'], message: 'is not a valid URL' });
    }
    if (request.method === 'GET' && request.body !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['request', 'body'], message: 'must be absent for GET: use query' });
    }
    if (request.body !== undefined && request.contentType === 'form') {
      const body = request.body;
      const flat = body !== null && typeof body === 'object' && !Array.isArray(body) && Object.values(body).every((v) => typeof v === 'string');
      if (!flat) ctx.addIssue({ code: 'custom', path: ['request', 'body'], message: 'must be an object of string templates for a form body' });
    }
    const templates: Array<{ path: (string | number)[]; value: string }> = [{ path: ['request', 'url'], value: request.url }];
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      if (FORBIDDEN_HEADERS.includes(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['request', 'headers', name], message: 'is set by the request itself' });
      templates.push({ path: ['request', 'headers', name], value });
    }
    for (const [name, value] of Object.entries(request.query ?? {})) templates.push({ path: ['request', 'query', name], value });
    for (const leaf of jsonStrings(request.body, '')) {
      if (leaf.value.length > MAX_TEMPLATE) ctx.addIssue({ code: 'custom', path: ['request', 'body', ...leaf.path.split('.').slice(1)], message: `must be at most ${MAX_TEMPLATE} characters` });
      templates.push({ path: ['request', 'body', ...leaf.path.split('.').slice(1)], value: leaf.value });
    }
    for (const template of templates) {
      const used = templateVariables(template.value);
      if ('problem' in used) ctx.addIssue({ code: 'custom', path: template.path, message: used.problem });
    }
    if ('equals' in settings.success && settings.success.equals !== undefined && settings.success.jsonPath === undefined) {
      ctx.addIssue({ code: 'custom', path: ['success', 'equals'], message: 'needs a jsonPath' });
    }
  });
export type HttpGatewaySettings = z.infer<typeof HttpGatewaySettings>;
export type HttpGatewaySettingsInput = z.input<typeof HttpGatewaySettings>;

export const HttpGatewayCredentials = z
  .record(z.string().regex(CREDENTIAL_FIELD, 'must be a field name: a letter or _, then up to 39 letters, digits or _'), z.string().max(500, 'must be at most 500 characters'))
  .superRefine((credentials, ctx) => {
    const secret = credentials.webhookSecret;
    if (secret === undefined) ctx.addIssue({ code: 'custom', path: ['webhookSecret'], message: 'is required' });
    else if (secret.length < 16) ctx.addIssue({ code: 'custom', path: ['webhookSecret'], message: 'must be at least 16 characters' });
    const others = Object.keys(credentials).filter((name) => name !== 'webhookSecret').length;
    if (others < 1 || others > 10) ctx.addIssue({ code: 'custom', path: [], message: `must have 1 to 10 secret fields besides webhookSecret (has ${others})` });
  })
  .describe('Free-form secret fields used as {{credentials.<field>}} (1 to 10, values up to 500 characters), plus webhookSecret for receipts (?token=<webhookSecret> on the webhook URL).');
export type HttpGatewayCredentials = z.infer<typeof HttpGatewayCredentials>;

/** The variables of every template of a request (for checking a gateway's credential fields). */
export function credentialsUsed(settings: Pick<HttpGatewaySettingsInput, 'request'>): string[] {
  const { request } = settings;
  const strings = [request.url, ...Object.values(request.headers ?? {}), ...Object.values(request.query ?? {}), ...jsonStrings(request.body, '').map((leaf) => leaf.value)];
  const used = new Set<string>();
  for (const value of strings) {
    const vars = templateVariables(value);
    if ('variables' in vars) for (const name of vars.variables) if (name.startsWith('credentials.')) used.add(name.slice('credentials.'.length));
  }
  return [...used];
}

type Kind = 'recipient' | 'gateway' | 'temporary';

function failure(kind: Kind, message: string, code?: string): ProviderRejected | GatewayFault | ProviderUnavailable {
  if (kind === 'recipient') return new ProviderRejected(message, code);
  if (kind === 'gateway') return new GatewayFault(message, code);
  return new ProviderUnavailable(message, code);
}

function defaultKind(status: number): Kind {
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'temporary';
  if (status === 401 || status === 403) return 'gateway';
  if (status >= 400) return 'recipient';
  if (status >= 200 && status < 300) return 'recipient';
  return 'gateway'; // 1xx/3xx: a redirect is not followed (secrets), the URL needs fixing
}

/** Tenant regexes only ever see the start of a reply, so a bad pattern's cost stays bounded. */
const REGEX_INPUT = 16 * 1024;
const regexInput = (body: string) => body.slice(0, REGEX_INPUT);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The reply quoted without any credential value it might echo. */
function quote(body: string, secrets: string[]): string {
  let text = body;
  for (const secret of secrets) if (secret.length >= 4) text = text.split(secret).join('***');
  return safeExcerpt(text);
}

function succeeded(settings: HttpGatewaySettings, reply: GuardedResponse, json: unknown): boolean {
  const { success } = settings;
  if ('regex' in success) return reply.status >= 200 && reply.status < 300 && new RegExp(success.regex).test(regexInput(reply.body));
  if (!success.statusCodes.includes(reply.status)) return false;
  if (success.jsonPath === undefined) return true;
  const found = scalarText(readJsonPath(json, success.jsonPath));
  return success.equals === undefined ? found !== undefined && found !== '' : found === success.equals;
}

function providerId(settings: HttpGatewaySettings, reply: GuardedResponse, json: unknown, fallback: string): string {
  const rule = settings.messageId;
  let id: string | undefined;
  if (rule && 'jsonPath' in rule) id = scalarText(readJsonPath(json, rule.jsonPath));
  else if (rule) id = new RegExp(rule.regex).exec(regexInput(reply.body))?.[1];
  id = id?.trim();
  return id && id.length <= 200 ? id : fallback;
}

const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Builds the request a gateway's settings describe for one message. */
export function buildRequest(
  settings: HttpGatewaySettings,
  view: TemplateView,
): { url: string; method: string; headers: Record<string, string>; body?: string } {
  const { request } = settings;
  const origin = urlOriginPart(request.url);
  const rendered = renderTemplate(request.url, view, encodeURIComponent);
  let url: URL;
  try {
    url = new URL(rendered);
  } catch {
    throw new GatewayFault('The HTTP gateway\'s request URL is not a valid URL once filled in; check settings.request.url.');
  }
  if (!origin || url.origin !== new URL(urlForCheck(origin)).origin) {
    throw new GatewayFault('The HTTP gateway\'s request URL changes its host once filled in; check settings.request.url.');
  }
  for (const [name, template] of Object.entries(request.query ?? {})) url.searchParams.append(name, renderTemplate(template, view));
  const headers: Record<string, string> = { accept: 'application/json, text/plain, */*' };
  let body: string | undefined;
  if (request.method === 'POST') {
    if (request.contentType === 'json') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(renderJson(request.body ?? {}, view));
    } else {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      const form = new URLSearchParams();
      for (const [name, template] of Object.entries((request.body ?? {}) as Record<string, string>)) form.append(name, renderTemplate(template, view));
      body = form.toString();
    }
  }
  for (const [name, template] of Object.entries(request.headers ?? {})) {
    const value = renderTemplate(template, view);
    if (!HEADER_VALUE.test(value)) throw new GatewayFault(`The HTTP gateway's header "${name}" would contain a line break or control character once filled in.`);
    headers[name.toLowerCase()] = value;
  }
  return { url: url.href, method: request.method, headers, ...(body !== undefined ? { body } : {}) };
}

function receiptFields(request: WebhookRequest): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  try {
    for (const [name, value] of new URL(request.url).searchParams) fields[name] = value;
  } catch {
    // no query
  }
  const type = request.headers['content-type'] ?? '';
  const raw = request.rawBody.trim();
  if (raw) {
    const json = type.includes('json') || raw.startsWith('{') ? parseJson(raw) : undefined;
    if (json !== null && typeof json === 'object' && !Array.isArray(json)) Object.assign(fields, json);
    else if (json === undefined) for (const [name, value] of new URLSearchParams(raw)) fields[name] = value;
  }
  return fields;
}

export const httpGatewaySms: SmsProvider<HttpGatewayCredentials, HttpGatewaySettings> = {
  id: 'http',
  channel: 'sms',
  displayName: 'Any HTTP SMS gateway',
  credentials: HttpGatewayCredentials,
  settings: HttpGatewaySettings,
  receiptWindowSeconds: 3600,
  // Without a receipt mapping the gateway's receipts cannot be read: sent is final, never overdue.
  sendsReceipts: (settings) => settings.receipt !== undefined,

  async send(message, { credentials, settings }, _ctx) {
    const to = formatNumber(message.to, settings.numberFormat);
    if (!to) throw new ProviderRejected(`The number ${safeExcerpt(message.to, 20)} cannot be written in the gateway's ${settings.numberFormat} format.`);
    const secrets = Object.fromEntries(Object.entries(credentials).filter(([name]) => name !== 'webhookSecret'));
    const view: TemplateView = { to, text: message.text, sender: settings.sender ?? '', messageId: message.messageId, credentials: secrets };
    const built = buildRequest(settings, view);
    let reply: GuardedResponse;
    try {
      reply = await guardedFetch(built.url, { method: built.method, headers: built.headers, ...(built.body !== undefined ? { body: built.body } : {}) }, { maxRedirects: 0 });
    } catch (error) {
      if (error instanceof OutboundUrlRefused) throw new GatewayFault(`The HTTP gateway's URL is refused: ${error.message}`, 'url-refused');
      throw error;
    }
    const json = parseJson(reply.body);
    if (succeeded(settings, reply, json)) return { providerMessageId: providerId(settings, reply, json, message.messageId) };
    const said = quote(reply.body, Object.values(credentials));
    const detail = `The HTTP gateway answered HTTP ${reply.status}${said ? `: ${said}` : ''}`;
    const rule = settings.errors?.find(
      (r) => (r.match.statusCode === undefined || r.match.statusCode === reply.status) && (r.match.regex === undefined || new RegExp(r.match.regex).test(regexInput(reply.body))) && (r.match.statusCode !== undefined || r.match.regex !== undefined),
    );
    const kind = rule?.kind ?? defaultKind(reply.status);
    throw failure(kind, detail, reply.status === 429 ? 'throttled' : String(reply.status));
  },

  /** The gateway calls the webhook URL with ?token=<webhookSecret>. */
  verifySignature(request, { credentials }) {
    return verifyUrlToken(request, credentials.webhookSecret ?? '');
  },

  parseWebhook(request: WebhookRequest, gateway?: { settings: HttpGatewaySettings }): ProviderStatusUpdate[] {
    const receipt = gateway?.settings.receipt;
    if (!receipt) throw invalid('This HTTP gateway has no receipt mapping (settings.receipt).');
    const fields = receiptFields(request);
    const id = scalarText(fields[receipt.idField])?.trim();
    const status = scalarText(fields[receipt.statusField])?.trim();
    if (!id || status === undefined) throw invalid(`The receipt has no ${!id ? receipt.idField : receipt.statusField}.`);
    if (receipt.delivered.includes(status)) return [{ providerMessageId: id, status: 'delivered', providerStatus: status }];
    if (receipt.failed.includes(status)) return [{ providerMessageId: id, status: 'failed', providerStatus: status, reason: `The gateway reported ${safeExcerpt(status, 60)}` }];
    return [];
  },
};
