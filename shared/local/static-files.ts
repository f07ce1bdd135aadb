/**
 * The admin console on the local stack: GET (and HEAD) under a prefix answered from a built
 * single-page app's folder (console/dist), with its content type; any other path under the prefix
 * gets index.html, so the app's own routes survive a reload. Nothing outside the folder is served.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticSite {
  /** e.g. /console */
  prefix: string;
  dir: string;
  /** Said (as text/plain, 404) when the folder has no index.html: how to build it. */
  missingHint: string;
}

/** Answers the request when it is for the site; false when the path is not under its prefix. */
export function serveStatic(site: StaticSite, req: IncomingMessage, res: ServerResponse, path: string): boolean {
  if (path !== site.prefix && !path.startsWith(`${site.prefix}/`)) return false;
  req.resume();
  const method = (req.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Method Not Allowed\n');
    return true;
  }
  if (path === site.prefix) {
    res.writeHead(308, { location: `${site.prefix}/` }).end();
    return true;
  }
  const index = join(site.dir, 'index.html');
  if (!existsSync(index)) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`${site.missingHint}\n`);
    return true;
  }
  let relative: string;
  try {
    relative = normalize(decodeURIComponent(path.slice(site.prefix.length + 1)));
  } catch {
    relative = '';
  }
  const candidate = join(site.dir, relative);
  const inside = candidate.startsWith(site.dir + sep) && !relative.split(/[\\/]/).includes('..');
  const isFile = inside && relative !== '' && existsSync(candidate) && statSync(candidate).isFile();
  // A missing asset is a 404 (a stale page asking for an old bundle); a missing page is the app's route.
  if (!isFile && relative.startsWith('assets/')) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found\n');
    return true;
  }
  const file = isFile ? candidate : index;
  const headers: Record<string, string> = {
    'content-type': contentTypes[extname(file)] ?? 'application/octet-stream',
    'content-length': String(statSync(file).size),
    'x-content-type-options': 'nosniff',
    // Hashed bundles never change; index.html always asks again.
    'cache-control': file.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
  res.writeHead(200, headers);
  if (method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
  return true;
}
