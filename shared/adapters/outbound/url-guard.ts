/**
 * The one guard for every URL a tenant configures and our servers then call (generic HTTP SMS
 * gateways, outgoing webhooks, SMTP hosts): no server-side request forgery into our own network or
 * the cloud's metadata service.
 *
 * Rules (checkOutboundUrl, and guardedFetch on the first URL and on every redirect):
 * - https only; a user name or password in the URL is refused (credentials belong in settings).
 * - Any port is allowed: the address rules below are what keeps a call out of our network, and
 *   providers do listen on odd ports.
 * - The host is resolved first (node:dns lookup, all addresses) and EVERY address must be allowed
 *   by ip-ranges.ts: public only; no loopback, private, link-local, CGNAT, multicast, unspecified,
 *   broadcast, reserved or documentation ranges, nor the IPv6 forms that carry such an IPv4
 *   address (IPv4-mapped/-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16), nor cloud metadata
 *   addresses. Literal IPs are judged the same way; the URL parser has already turned decimal,
 *   octal and hex IPv4 forms (http://2130706433/, http://0x7f.1/) into dotted decimal.
 * - The connection is pinned to the addresses that were checked (a custom `lookup` on the
 *   request), so a DNS answer that changes between check and connect (rebinding) is never used.
 *   TLS still sees the original host name (SNI and certificate verification).
 * - Redirects (301, 302, 303, 307, 308 with a Location) are followed by hand, at most
 *   maxRedirects (default 5) times, each new URL checked again by the same rules. 303 turns any
 *   method but HEAD into GET; 301 and 302 turn POST into GET, as browsers and fetch() do; 307 and
 *   308 keep the method and body. A body-less GET drops the body's headers (content-type...). A
 *   redirect to another origin drops authorization, cookie and proxy-authorization headers (other
 *   custom credential headers are the caller's business: do not put secrets in headers for a URL
 *   that may redirect, or use maxRedirects: 0). A redirect from https to http is refused unless
 *   private URLs are allowed.
 * - One deadline for the whole exchange (DNS, connect, redirects, body): timeoutMs, default 10 s.
 *   The reply body is capped at maxResponseBytes (default 256 KiB): reading stops at the cap.
 *
 * Relaxing: only the deployment can, for tests and the local demo: ISPNOTIFY_ALLOW_PRIVATE_URLS=1
 * (read from process.env at each call) or `allowPrivate: true` in the options permits http and
 * loopback/private addresses (127/8, ::1, RFC 1918, fc00::/7). Cloud metadata and the other
 * blocked ranges stay blocked even then. An explicit `allowPrivate: false` wins over the variable.
 *
 * Errors:
 * - OutboundUrlRefused: the URL (or where it redirects, or resolves) is not allowed, or its name
 *   does not exist. Permanent: the tenant must fix the configuration. Callers on the provider path
 *   should turn it into ProviderRejected (it is deliberately not a provider error here).
 * - ProviderUnavailable (code 'timeout', 'dns', 'network' or 'tls'): the call did not complete;
 *   temporary. OutboundResponseTooLarge (a ProviderUnavailable, code 'response-too-large'): the
 *   reply was over the cap. None of them repeats the reply's body, nor the URL's path or query.
 */
import type { LookupAddress, LookupOptions } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import { ProviderUnavailable } from '../../domain/errors.js';
import { classifyAddress, type AddressVerdict } from './ip-ranges.js';

export const ALLOW_PRIVATE_URLS_ENV = 'ISPNOTIFY_ALLOW_PRIVATE_URLS';
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024;
export const DEFAULT_MAX_REDIRECTS = 5;

/** Resolves a host name to all its addresses, like dns.lookup(name, { all: true }). */
export type Resolver = (hostname: string) => Promise<ReadonlyArray<{ address: string; family?: number }>>;

export interface OutboundCheckOptions {
  /** Permit http and loopback/private addresses (never metadata). Default: ISPNOTIFY_ALLOW_PRIVATE_URLS === '1'. */
  allowPrivate?: boolean;
  /** Replaces DNS (tests). Default: node:dns lookup with all: true. */
  lookup?: Resolver;
  /** Deadline, in ms. checkOutboundUrl: for resolving the name; guardedFetch: for the whole exchange. Default 10 s. */
  timeoutMs?: number;
}

export interface GuardedFetchOptions extends OutboundCheckOptions {
  /** Largest reply body read, in bytes; more is an OutboundResponseTooLarge. Default 256 KiB. */
  maxResponseBytes?: number;
  /** Redirects followed before giving up with OutboundUrlRefused. Default 5. */
  maxRedirects?: number;
}

export interface GuardedRequest {
  method: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface GuardedResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body decoded as UTF-8. */
  body: string;
  /** The final URL, after redirects. */
  url: string;
}

/** The URL is not allowed: permanent, the tenant must change the configuration. */
export class OutboundUrlRefused extends Error {
  override name = 'OutboundUrlRefused';
  /**
   * @param reason words a tenant can act on, completing "the URL ...", e.g. "resolves to a private address (10.0.0.5)"
   * @param target the host (and port) concerned, when known: never the path or query
   */
  constructor(
    readonly reason: string,
    readonly target?: string,
  ) {
    super(`Outbound URL refused${target ? ` (${target})` : ''}: the URL ${reason}.`);
  }
}

/** The reply was larger than maxResponseBytes; reading stopped. */
export class OutboundResponseTooLarge extends ProviderUnavailable {
  override name = 'OutboundResponseTooLarge';
  constructor(
    target: string,
    readonly limitBytes: number,
  ) {
    super(`The reply from ${target} is larger than ${limitBytes} bytes; reading stopped.`, 'response-too-large');
  }
}

function allowPrivateFrom(opts: OutboundCheckOptions | undefined): boolean {
  return opts?.allowPrivate ?? process.env[ALLOW_PRIVATE_URLS_ENV] === '1';
}

const defaultResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** URL.hostname without the brackets of an IPv6 literal. */
function bareHostname(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

function describeAddress(v: AddressVerdict): string {
  const inner = v.embeddedIPv4 !== undefined ? `${v.address}, which carries ${v.embeddedIPv4}` : v.address;
  const never = v.category === 'metadata' ? ', which is never allowed' : '';
  return `${v.description} (${inner})${never}`;
}

/** The syntax rules: scheme, credentials, host. No DNS. */
function parseAndCheckSyntax(input: string | URL, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new OutboundUrlRefused('is not a valid URL');
  }
  const target = url.host || undefined;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowPrivate)) {
    throw new OutboundUrlRefused(`uses ${url.protocol.replace(/:$/, '')}, but only https URLs are allowed`, target);
  }
  if (url.username || url.password) {
    throw new OutboundUrlRefused('contains a user name or password; put credentials in the settings instead', target);
  }
  if (!bareHostname(url)) throw new OutboundUrlRefused('has no host name', target);
  return url;
}

interface CheckedTarget {
  url: URL;
  addresses: string[];
  pinned: LookupAddress[];
}

function rejectOnAbort(signal: AbortSignal): { promise: Promise<never>; dispose: () => void } {
  let onAbort = () => {};
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => {}); // only observed through the race
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

async function resolveHost(hostname: string, target: string, resolver: Resolver, signal: AbortSignal): Promise<string[]> {
  const abort = rejectOnAbort(signal);
  let answers: ReadonlyArray<{ address: string }>;
  try {
    answers = await Promise.race([resolver(hostname), abort.promise]);
  } catch (error) {
    if (signal.aborted) throw error;
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') throw new OutboundUrlRefused(`names a host that does not exist (${code})`, target);
    throw new ProviderUnavailable(`Could not resolve ${target}: ${typeof code === 'string' ? code : (error as Error).message}`, 'dns');
  } finally {
    abort.dispose();
  }
  const addresses = [...new Set(answers.map((answer) => answer.address))];
  if (addresses.length === 0) throw new OutboundUrlRefused('names a host that has no address', target);
  return addresses;
}

/** All the rules for one URL; throws OutboundUrlRefused, or ProviderUnavailable when DNS fails or the deadline passes. */
async function checkTarget(input: string | URL, allowPrivate: boolean, resolver: Resolver, signal: AbortSignal): Promise<CheckedTarget> {
  const url = parseAndCheckSyntax(input, allowPrivate);
  const hostname = bareHostname(url);
  const literal = isIP(hostname) !== 0;
  const addresses = literal ? [hostname] : await resolveHost(hostname, url.host, resolver, signal);
  for (const address of addresses) {
    const v = classifyAddress(address);
    const allowed = v.category === 'public' || (allowPrivate && v.relaxable);
    if (!allowed) throw new OutboundUrlRefused(`${literal ? 'points to' : 'resolves to'} ${describeAddress(v)}`, url.host);
  }
  return { url, addresses, pinned: addresses.map((address) => ({ address, family: isIP(address) })) };
}

/** A timer that aborts with a recognisable reason. */
class DeadlinePassed extends Error {}

function deadline(timeoutMs: number): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DeadlinePassed(`deadline of ${timeoutMs} ms passed`)), timeoutMs);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/**
 * Validates a URL a tenant is saving: all the rules above, DNS included. Returns the parsed URL
 * and the addresses its host resolves to now (a later call checks again: DNS may change).
 */
export async function checkOutboundUrl(url: string, opts?: OutboundCheckOptions): Promise<{ url: URL; addresses: string[] }> {
  const timeoutMs = opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { signal, clear } = deadline(timeoutMs);
  try {
    const checked = await checkTarget(url, allowPrivateFrom(opts), opts?.lookup ?? defaultResolver, signal);
    return { url: checked.url, addresses: checked.addresses };
  } catch (error) {
    if (error instanceof DeadlinePassed) {
      throw new ProviderUnavailable(`Could not resolve ${safeTarget(url)} within ${timeoutMs} ms.`, 'timeout');
    }
    throw error;
  } finally {
    clear();
  }
}

function safeTarget(url: string | URL): string {
  try {
    return new URL(url).host || 'the URL';
  } catch {
    return 'the URL';
  }
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
/** Set by guardedFetch itself, never taken from the caller. */
const MANAGED_HEADERS = ['host', 'content-length', 'transfer-encoding', 'connection'];

function withoutHeaders(headers: Record<string, string>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())));
}

/**
 * The request to send after a redirect: the new URL (relative Locations resolved), the method and
 * body per the status, and headers without credentials when the origin changes. Refuses an invalid
 * Location and, unless private URLs are allowed, a step down from https to http. The new URL's
 * other rules (and its addresses) are checked when it is fetched.
 */
export function planRedirect(
  from: URL,
  status: number,
  location: string,
  request: GuardedRequest,
  allowPrivate: boolean,
): { url: URL; request: GuardedRequest } {
  let url: URL;
  try {
    url = new URL(location, from);
  } catch {
    throw new OutboundUrlRefused('redirects to an invalid URL', from.host);
  }
  if (from.protocol === 'https:' && url.protocol === 'http:' && !allowPrivate) {
    throw new OutboundUrlRefused(`redirects from https to http (${url.host})`, from.host);
  }
  const method = request.method.toUpperCase();
  const toGet = (status === 303 && method !== 'HEAD' && method !== 'GET') || ((status === 301 || status === 302) && method === 'POST');
  let headers = { ...request.headers };
  if (toGet) headers = withoutHeaders(headers, BODY_HEADERS);
  if (url.origin !== from.origin) headers = withoutHeaders(headers, CREDENTIAL_HEADERS);
  const next: GuardedRequest = toGet ? { method: 'GET', headers } : { method: request.method, headers };
  if (!toGet && request.body !== undefined) next.body = request.body;
  return { url, request: next };
}

function pinnedLookup(pinned: LookupAddress[]) {
  return (_hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    const family = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : undefined;
    const candidates = family ? pinned.filter((entry) => entry.family === family) : pinned;
    const first = candidates[0];
    if (!first) {
      const error: NodeJS.ErrnoException = new Error(`no checked IPv${family} address`);
      error.code = 'ENOTFOUND';
      callback(error, '');
    } else if (options.all) {
      callback(null, candidates);
    } else {
      callback(null, first.address, first.family);
    }
  };
}

function isTlsError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /CERT|TLS|SSL|SELF_SIGNED|ALTNAME|UNABLE_TO/.test(code);
}

/** Sends one request to a checked target; resolves when the reply's head arrives. */
function send(target: CheckedTarget, request: GuardedRequest, signal: AbortSignal): Promise<http.IncomingMessage> {
  const { url } = target;
  const hostname = bareHostname(url);
  const body = request.body;
  const headers: Record<string, string> = withoutHeaders(request.headers ?? {}, MANAGED_HEADERS);
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  const options: https.RequestOptions = {
    protocol: url.protocol,
    hostname,
    port: url.port || (url.protocol === 'https:' ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    method: request.method,
    headers,
    agent: false, // a fresh connection to the pinned address: no pooled socket from another resolution
    lookup: pinnedLookup(target.pinned),
    signal,
  };
  if (url.protocol === 'https:') {
    options.rejectUnauthorized = true; // even if NODE_TLS_REJECT_UNAUTHORIZED=0 is set
    if (isIP(hostname) === 0) options.servername = hostname;
  }
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https.request(options) : http.request(options);
    client.once('response', resolve);
    client.on('error', reject); // `on`: a late error after an abort must not go unhandled
    client.end(body);
  });
}

/** Reads the reply's body, at most maxBytes. */
function readBody(response: http.IncomingMessage, maxBytes: number, target: string, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      response.destroy();
      reject(new OutboundResponseTooLarge(target, maxBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => {
      response.destroy();
      settle(() => reject(signal.reason));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        response.destroy();
        settle(() => reject(new OutboundResponseTooLarge(target, maxBytes)));
        return;
      }
      chunks.push(chunk);
    });
    response.once('end', () => settle(() => resolve(Buffer.concat(chunks))));
    response.on('error', (error) => settle(() => reject(error)));
    response.once('close', () => {
      if (!response.complete) settle(() => reject(Object.assign(new Error('the connection closed before the reply was complete'), { code: 'ECONNRESET' })));
    });
  });
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/**
 * Calls a tenant-configured URL under all the rules above and returns the final reply (any HTTP
 * status is returned, not thrown).
 */
export async function guardedFetch(url: string, init: GuardedRequest, opts?: GuardedFetchOptions): Promise<GuardedResponse> {
  const allowPrivate = allowPrivateFrom(opts);
  const resolver = opts?.lookup ?? defaultResolver;
  const timeoutMs = opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = opts?.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const maxRedirects = opts?.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const { signal, clear } = deadline(timeoutMs);
  let current: string | URL = url;
  let request: GuardedRequest = { ...init, headers: { ...init.headers } };
  let target = safeTarget(url);
  try {
    for (let redirects = 0; ; redirects++) {
      let checked: CheckedTarget;
      try {
        checked = await checkTarget(current, allowPrivate, resolver, signal);
      } catch (error) {
        if (redirects > 0 && error instanceof OutboundUrlRefused) {
          throw new OutboundUrlRefused(`was redirected to a URL that ${error.reason}`, error.target);
        }
        throw error;
      }
      target = checked.url.host;
      const response = await send(checked, request, signal);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (REDIRECT_STATUSES.has(status) && location) {
        response.on('error', () => {}); // its body is not read
        response.destroy();
        if (redirects >= maxRedirects) {
          throw new OutboundUrlRefused(`redirected more than ${maxRedirects} time${maxRedirects === 1 ? '' : 's'}`, target);
        }
        const next = planRedirect(checked.url, status, location, request, allowPrivate);
        current = next.url;
        request = next.request;
        continue;
      }
      const body = await readBody(response, maxBytes, target, signal);
      return { status, headers: flattenHeaders(response.headers), body: body.toString('utf8'), url: checked.url.href };
    }
  } catch (error) {
    if (error instanceof OutboundUrlRefused || error instanceof ProviderUnavailable) throw error;
    if (signal.aborted) throw new ProviderUnavailable(`${target} did not answer within ${timeoutMs} ms.`, 'timeout');
    const code = (error as { code?: unknown }).code;
    const detail = typeof code === 'string' ? `${code} (${(error as Error).message})` : error instanceof Error ? error.message : String(error);
    throw new ProviderUnavailable(`Could not reach ${target}: ${detail}`, isTlsError(error) ? 'tls' : 'network');
  } finally {
    clear();
  }
}
