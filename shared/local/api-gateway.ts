/**
 * A local stand-in for API Gateway HTTP API (payload format 2.0) in front of Lambda: it matches the
 * catalog's route keys, builds the event API Gateway would build, invokes the handler with a Lambda
 * context, and writes the result as API Gateway would.
 *
 * Local differences: error replies are application/problem+json (API Gateway answers
 * `{"message":"Not Found"}` / `{"message":"Internal Server Error"}`), request bodies are limited to
 * Lambda's 6 MB invocation payload (API Gateway itself accepts 10 MB), and a handler that times out is
 * answered with 500 while its promise keeps running (Lambda would freeze the environment).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { HttpFunction } from '../catalog.js';

/** What a Lambda handler may look like: async, or Node's older callback style. */
export type LambdaHandler<E = unknown, R = unknown> = (
  event: E,
  context: Context,
  callback: (error?: Error | string | null, result?: R) => void,
) => Promise<R> | R | void;

export interface ApiServerOptions {
  /** The catalog's HTTP functions (or any list of the same shape). */
  routes: readonly HttpFunction[];
  /** Loads the `handler` of a function; called once per function, on its first request. */
  loadHandler(fn: HttpFunction): Promise<LambdaHandler>;
  /** One line per request (method, path, status, duration); omit for silence. */
  log?: (line: string) => void;
  /** Defaults: AWS_REGION or us-east-1; the same account id local SQS puts in its ARNs. */
  region?: string;
  accountId?: string;
}

export const LOCAL_ACCOUNT_ID = '123456789012';
const LOCAL_API_ID = 'local';
/** Lambda's synchronous invocation payload limit. */
export const MAX_REQUEST_BODY_BYTES = 6 * 1024 * 1024;
const MEMORY_MB = 512; // as lib/constructs/lambda-function.ts deploys

export interface LambdaContextOptions {
  functionName: string;
  timeoutSeconds: number;
  region?: string;
  accountId?: string;
  memoryLimitInMB?: number;
}

/** A Context as the Node.js Lambda runtime passes it; the deadline starts now. */
export function createLambdaContext(opts: LambdaContextOptions): Context {
  const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const accountId = opts.accountId ?? LOCAL_ACCOUNT_ID;
  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  const legacy = () => {
    throw new Error('context.done/succeed/fail are not supported locally: return a value or a promise instead.');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: opts.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${opts.functionName}`,
    memoryLimitInMB: String(opts.memoryLimitInMB ?? MEMORY_MB),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${opts.functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: legacy,
    fail: legacy,
    succeed: legacy,
  };
}

/**
 * Calls a handler as the Lambda runtime does (promise or callback) and fails with Lambda's
 * "Task timed out" error once the function's timeout has passed.
 */
export function invokeHandler<R>(handler: LambdaHandler<never, R>, event: unknown, context: Context, timeoutSeconds: number): Promise<R> {
  return new Promise<R>((resolveResult, reject) => {
    let settled = false;
    const finish = (error: unknown, result?: R) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error !== undefined && error !== null) reject(error instanceof Error ? error : new Error(String(error)));
      else resolveResult(result as R);
    };
    const timer = setTimeout(() => finish(new Error(`Task timed out after ${timeoutSeconds.toFixed(2)} seconds`)), timeoutSeconds * 1000);
    try {
      const returned = (handler as LambdaHandler<unknown, R>)(event, context, (error, result) => finish(error, result));
      if (returned && typeof (returned as Promise<R>).then === 'function') {
        (returned as Promise<R>).then(
          (result) => finish(undefined, result),
          (error: unknown) => finish(error ?? new Error('The handler rejected without a reason.')),
        );
      } else if (handler.length < 3) {
        finish(undefined, returned as R);
      }
    } catch (error) {
      finish(error);
    }
  });
}

interface CompiledRoute {
  routeKey: string;
  method: string; // upper case, or ANY
  /** null: $default */
  segments: Array<{ literal: string } | { param: string }> | null;
  fn: HttpFunction;
}

function compileRoutes(functions: readonly HttpFunction[]): CompiledRoute[] {
  const compiled: CompiledRoute[] = [];
  const seen = new Set<string>();
  for (const fn of functions) {
    for (const routeKey of fn.routes) {
      if (seen.has(routeKey)) throw new Error(`Route ${routeKey} is declared twice.`);
      seen.add(routeKey);
      if (routeKey === '$default') {
        compiled.push({ routeKey, method: 'ANY', segments: null, fn });
        continue;
      }
      const match = /^([A-Z]+) (\/\S*)$/.exec(routeKey);
      if (!match) throw new Error(`Route key ${JSON.stringify(routeKey)} is not "METHOD /path".`);
      const segments = match[2]!
        .split('/')
        .slice(1)
        .map((part) => {
          const param = /^\{([^{}+]+)\}$/.exec(part);
          if (param) return { param: param[1]! };
          if (part.includes('{')) throw new Error(`Route ${routeKey}: only whole-segment {param}s are supported locally.`);
          return { literal: part };
        });
      compiled.push({ routeKey, method: match[1]!, segments, fn });
    }
  }
  return compiled;
}

/**
 * Orders routes so the first match is the one API Gateway picks: a literal segment beats a parameter at
 * the first place two paths differ, an exact method beats ANY, and $default comes last.
 */
function specificityKey(route: CompiledRoute): string {
  if (!route.segments) return '~';
  return `${route.segments.map((segment) => ('literal' in segment ? '0' : '1')).join('')}|${route.method === 'ANY' ? 1 : 0}`;
}

function compareSpecificity(a: CompiledRoute, b: CompiledRoute): number {
  const [keyA, keyB] = [specificityKey(a), specificityKey(b)];
  return keyA < keyB ? -1 : keyA > keyB ? 1 : 0;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function matchRoute(routes: CompiledRoute[], method: string, rawPath: string) {
  const parts = rawPath.split('/').slice(1);
  for (const route of routes) {
    if (route.method !== 'ANY' && route.method !== method) continue;
    if (!route.segments) return { route, params: undefined };
    if (route.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (const [i, segment] of route.segments.entries()) {
      const part = parts[i]!;
      if ('literal' in segment) {
        if (segment.literal !== part && segment.literal !== safeDecode(part)) ok = false;
      } else if (part === '') {
        ok = false;
      } else {
        params[segment.param] = safeDecode(part);
      }
      if (!ok) break;
    }
    if (ok) return { route, params: Object.keys(params).length > 0 ? params : undefined };
  }
  return undefined;
}

/** Text bodies reach the function as UTF-8 strings; everything else base64-encoded, as on AWS. */
function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript' ||
    type === 'application/graphql'
  );
}

/** API Gateway's `time`: 12/Mar/2020:19:03:58 +0000 */
function apiGatewayTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

function buildEvent(
  req: IncomingMessage,
  body: Buffer | undefined,
  routeKey: string,
  pathParameters: Record<string, string> | undefined,
  opts: { accountId: string; requestId: string },
): APIGatewayProxyEventV2 {
  const target = req.url ?? '/';
  const queryAt = target.indexOf('?');
  const rawPath = queryAt === -1 ? target : target.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? '' : target.slice(queryAt + 1);

  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!values) continue;
    if (name === 'cookie') {
      // Format 2.0 moves the cookie headers into `cookies`, one entry per cookie.
      cookies = values.flatMap((value) => value.split(';')).map((cookie) => cookie.trim()).filter(Boolean);
      continue;
    }
    headers[name] = values.join(',');
  }

  let queryStringParameters: Record<string, string> | undefined;
  if (rawQueryString) {
    queryStringParameters = {};
    for (const [key, value] of new URLSearchParams(rawQueryString)) {
      const previous = queryStringParameters[key];
      queryStringParameters[key] = previous === undefined ? value : `${previous},${value}`;
    }
  }

  const now = new Date();
  const host = (headers.host ?? 'localhost').replace(/:\d+$/, '');
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies && cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: opts.accountId,
      apiId: LOCAL_API_ID,
      domainName: host,
      domainPrefix: host.split('.')[0]!,
      http: {
        method: req.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: opts.requestId,
      routeKey,
      stage: '$default',
      time: apiGatewayTime(now),
      timeEpoch: now.getTime(),
    },
    ...(pathParameters ? { pathParameters } : {}),
    isBase64Encoded: false,
  };
  if (body && body.length > 0) {
    const text = isTextContentType(headers['content-type']);
    event.body = text ? body.toString('utf8') : body.toString('base64');
    event.isBase64Encoded = !text;
  }
  return event;
}

function problem(res: ServerResponse, status: number, title: string, detail: string, extraHeaders: Record<string, string> = {}) {
  const body = JSON.stringify({ type: 'about:blank', title, status, detail });
  res.writeHead(status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body), ...extraHeaders });
  res.end(body);
}

class InvalidResponse extends Error {}

/** Payload format 2.0 response rules: a result without statusCode is a 200 JSON body. */
function writeResult(res: ServerResponse, result: unknown, requestId: string): number {
  const structured =
    typeof result === 'object' && result !== null && !Array.isArray(result) && 'statusCode' in result
      ? (result as APIGatewayProxyStructuredResultV2)
      : undefined;
  if (!structured) {
    const body = JSON.stringify(result ?? null);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'apigw-requestid': requestId });
    res.end(body);
    return 200;
  }
  const status = Number(structured.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) throw new InvalidResponse(`statusCode ${String(structured.statusCode)} is not an HTTP status.`);
  if (structured.body !== undefined && typeof structured.body !== 'string') throw new InvalidResponse('body must be a string.');
  const body = structured.body === undefined ? Buffer.alloc(0) : Buffer.from(structured.body, structured.isBase64Encoded ? 'base64' : 'utf8');
  res.statusCode = status;
  for (const [name, value] of Object.entries(structured.headers ?? {})) res.setHeader(name, String(value));
  if (structured.cookies && structured.cookies.length > 0) res.setHeader('set-cookie', structured.cookies);
  res.setHeader('content-length', body.length);
  res.setHeader('apigw-requestid', requestId);
  res.end(body);
  return status;
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_REQUEST_BODY_BYTES) return 'too-large';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BODY_BYTES) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** An http.Server that routes like API Gateway and invokes the catalog's handlers. Call listen() on it. */
export function createApiServer(opts: ApiServerOptions): Server {
  const routes = compileRoutes(opts.routes).sort(compareSpecificity);
  const accountId = opts.accountId ?? LOCAL_ACCOUNT_ID;
  const handlers = new Map<HttpFunction, Promise<LambdaHandler>>();
  const handlerOf = (fn: HttpFunction) => {
    let loading = handlers.get(fn);
    if (!loading) {
      loading = opts.loadHandler(fn).then((handler) => {
        if (typeof handler !== 'function') throw new Error(`${fn.entry} does not export a handler function.`);
        return handler;
      });
      // A module that failed to load is tried again on the next request (after a fix, say).
      loading.catch(() => handlers.delete(fn));
      handlers.set(fn, loading);
    }
    return loading;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const method = (req.method ?? 'GET').toUpperCase();
    const rawPath = (req.url ?? '/').split('?')[0]!;
    const requestId = randomBytes(11).toString('base64');
    const matched = matchRoute(routes, method, rawPath);
    if (!matched) {
      req.resume();
      problem(res, 404, 'Not Found', `No route for ${method} ${rawPath}`, { 'apigw-requestid': requestId });
      return 404;
    }
    const body = await readBody(req);
    if (body === 'too-large') {
      // Stop reading an oversized upload: answer, then drop the connection.
      problem(res, 413, 'Payload Too Large', `The request body exceeds ${MAX_REQUEST_BODY_BYTES / 1024 / 1024} MB (the Lambda invocation payload limit).`, {
        connection: 'close',
        'apigw-requestid': requestId,
      });
      res.once('finish', () => req.destroy());
      return 413;
    }
    const { fn } = matched.route;
    const functionName = `ispnotify-${fn.id}`;
    try {
      const handler = await handlerOf(fn);
      const event = buildEvent(req, body, matched.route.routeKey, matched.params, { accountId, requestId });
      const context = createLambdaContext({ functionName, timeoutSeconds: fn.timeoutSeconds, region: opts.region, accountId });
      const result = await invokeHandler(handler, event, context, fn.timeoutSeconds);
      return writeResult(res, result, requestId);
    } catch (error) {
      console.error(`[${functionName}] ${matched.route.routeKey} failed (request ${requestId}):`, error);
      if (res.headersSent) {
        res.destroy();
      } else {
        problem(res, 500, 'Internal Server Error', `The ${fn.id} function failed; see the local server's log (request ${requestId}).`, {
          'apigw-requestid': requestId,
        });
      }
      return 500;
    }
  }

  return createServer((req, res) => {
    const started = performance.now();
    handle(req, res)
      .then((status) => opts.log?.(`${req.method} ${req.url} → ${status} (${(performance.now() - started).toFixed(0)} ms)`))
      .catch((error: unknown) => {
        console.error('local API: request failed:', error);
        if (!res.headersSent) problem(res, 500, 'Internal Server Error', 'The local API server failed.');
        else res.destroy();
      });
  });
}
