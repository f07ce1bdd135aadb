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
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { HttpFunction } from '../catalog.js';
import { buildEvent, MAX_REQUEST_BODY_BYTES, problem, readBody, writeResult } from './api-gateway-event.js';
import { createLambdaContext, invokeHandler, LOCAL_ACCOUNT_ID, type LambdaHandler } from './lambda-invoke.js';
import { compareSpecificity, compileRoutes, matchRoute } from './route-matching.js';
import { serveStatic, type StaticSite } from './static-files.js';

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
  /** Local-only GET routes answered in process with JSON (the local mailbox); never part of the catalog. */
  localRoutes?: Record<string, () => unknown>;
  /** A built single-page app served under a prefix (the admin console at /console); never part of the catalog. */
  staticSite?: StaticSite;
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
    const local = method === 'GET' && opts.localRoutes && Object.hasOwn(opts.localRoutes, rawPath) ? opts.localRoutes[rawPath] : undefined;
    if (local) {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json', 'apigw-requestid': requestId }).end(JSON.stringify(local()));
      return 200;
    }
    if (opts.staticSite && serveStatic(opts.staticSite, req, res, rawPath)) return res.statusCode;
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
