/**
 * What every HTTP provider adapter shares: one way to call a provider with a deadline, one way to
 * turn a failed call into ProviderRejected (permanent) or ProviderUnavailable (retry later), and
 * a constant-time string comparison for webhook signatures.
 */
import { timingSafeEqual } from 'node:crypto';
import { ProviderRejected, ProviderThrottled, ProviderUnavailable } from '../../domain/errors.js';
import type { ProviderContext } from '../../ports.js';

export const DEFAULT_TIMEOUT_MS = 10_000;

export interface HttpOptions {
  /** Names the provider in error messages, e.g. "Twilio". */
  provider: string;
  headers?: Record<string, string>;
  /** Deadline for the whole exchange, body included. */
  timeoutMs?: number;
}

export interface HttpReply {
  status: number;
  ok: boolean;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** Where a request went, without credentials, path or query: safe to put in an error message. */
function describeTarget(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the provider';
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function causeOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // undici reports "fetch failed" and keeps the useful part (ECONNREFUSED, ENOTFOUND...) in `cause`.
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code} (${cause.message})` : cause.message;
  }
  return error.message;
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Sends one request through ctx.fetch and reads the whole reply. Any HTTP status is returned, not
 * thrown; a network failure or a missed deadline throws ProviderUnavailable.
 */
export async function httpRequest(
  ctx: ProviderContext,
  url: string,
  init: { method: string; body?: string; headers?: Record<string, string> },
  options: HttpOptions,
): Promise<HttpReply> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const target = describeTarget(url);
  try {
    const response = await ctx.fetch(url, {
      method: init.method,
      headers: { ...init.headers, ...options.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    return { status: response.status, ok: response.ok, headers: response.headers, text, json: parseJson(text) };
  } catch (error) {
    if (isTimeout(error)) {
      throw new ProviderUnavailable(`${options.provider} did not answer within ${timeoutMs} ms (${target}).`, 'timeout');
    }
    throw new ProviderUnavailable(`Could not reach ${options.provider} at ${target}: ${causeOf(error)}`, 'network');
  }
}

/** POSTs application/x-www-form-urlencoded parameters. */
export function postForm(
  ctx: ProviderContext,
  url: string,
  params: Record<string, string> | URLSearchParams,
  options: HttpOptions,
): Promise<HttpReply> {
  const body = (params instanceof URLSearchParams ? params : new URLSearchParams(params)).toString();
  return httpRequest(
    ctx,
    url,
    { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' } },
    options,
  );
}

/** POSTs JSON. Pass a string to send exactly those bytes (e.g. a body that was signed). */
export function postJson(ctx: ProviderContext, url: string, body: unknown, options: HttpOptions): Promise<HttpReply> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return httpRequest(
    ctx,
    url,
    { method: 'POST', body: text, headers: { 'content-type': 'application/json', accept: 'application/json' } },
    options,
  );
}

/**
 * The usual meaning of a failed HTTP status: timeouts, "too early", rate limits and server errors
 * may pass (retry later); any other 4xx means this request will never succeed as it is.
 */
export function classifyHttpFailure(status: number, detail: string, code?: string): ProviderRejected | ProviderUnavailable | ProviderThrottled {
  if (status === 429) return new ProviderThrottled(detail, code);
  if (status === 408 || status === 425 || status >= 500) return new ProviderUnavailable(detail, code);
  if (status >= 400) return new ProviderRejected(detail, code);
  // 1xx/3xx where a final 2xx was expected: treat as a transient oddity of the path to the provider.
  return new ProviderUnavailable(detail, code);
}

/**
 * For providers whose receipts carry no signature: the gateway's `webhookSecret` credential, set
 * by the operator as the `token` query parameter of the webhook URL it gives the provider.
 */
export function verifyUrlToken(request: { url: string }, webhookSecret: string): boolean {
  let token: string | null;
  try {
    token = new URL(request.url).searchParams.get('token');
  } catch {
    return false;
  }
  return token !== null && webhookSecret.length > 0 && timingSafeEqualStrings(token, webhookSecret);
}

/** The first entry of an `errors` array in a JSON error reply (Telnyx, MessageBird, ...), if it is an object. */
export function firstListedError<T extends object>(json: unknown): Partial<T> | undefined {
  const errors = json !== null && typeof json === 'object' ? (json as { errors?: unknown }).errors : undefined;
  const first = Array.isArray(errors) ? (errors[0] as unknown) : undefined;
  return first !== null && typeof first === 'object' ? (first as Partial<T>) : undefined;
}

/** Constant-time comparison of two strings; different lengths compare unequal. */
export function timingSafeEqualStrings(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}
