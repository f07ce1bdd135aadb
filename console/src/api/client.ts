/**
 * The console's only way to the API: a typed client (openapi-fetch over the types generated from
 * the API's OpenAPI document) and a plain one for routes the document does not describe yet.
 * Every failure becomes an ApiError carrying the RFC 9457 problem the API answered.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Problem = Schemas['Problem'];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem> & { [key: string]: unknown },
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
}

let apiKey: string | undefined;
let baseUrl = '';

export function setApiKey(key: string | undefined) {
  apiKey = key;
}

/** Where the API is: the same origin locally; behind CloudFront, config.json (written at deploy) names it. */
export async function loadApiBase(): Promise<void> {
  try {
    const reply = await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: 'no-store' });
    if (reply.ok && reply.headers.get('content-type')?.includes('json')) {
      const config = (await reply.json()) as { apiUrl?: string };
      if (config.apiUrl) baseUrl = config.apiUrl.replace(/\/$/, '');
    }
  } catch {
    // no config: the API is on this origin
  }
}

const auth: Middleware = {
  onRequest({ request }) {
    if (apiKey) request.headers.set('authorization', `Bearer ${apiKey}`);
    return request;
  },
};

export const client = createClient<paths>({ baseUrl: '', fetch: (request) => fetch(rebase(request)) });
client.use(auth);

function rebase(request: Request): Request {
  if (!baseUrl) return request;
  const url = new URL(request.url);
  return new Request(baseUrl + url.pathname + url.search, request);
}

/** The data of an openapi-fetch reply, or throws its problem as an ApiError. */
export async function unwrap<T>(reply: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await reply;
  if (!response.ok) throw new ApiError(response.status, (error ?? {}) as Problem);
  return data as T;
}

/** A request to a route the generated types do not cover (yet), or a non-JSON reply (CSV, PDF). */
export async function call<T = unknown>(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<T> {
  const reply = await fetch(baseUrl + path, {
    method,
    headers: {
      accept,
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!reply.ok) {
    const problem = await reply.json().catch(() => ({ title: reply.statusText }));
    throw new ApiError(reply.status, problem as Problem);
  }
  if (accept !== 'application/json') return (await reply.blob()) as T;
  if (reply.status === 204) return undefined as T;
  return (await reply.json()) as T;
}

/** An amount in the smallest unit of a currency, as the API writes money. */
export interface Money {
  amount: number;
  currency: string;
}
