/** Compiling the catalog's API Gateway route keys and picking the route for a method and path. */
import type { HttpFunction } from '../catalog.js';

export interface CompiledRoute {
  routeKey: string;
  method: string; // upper case, or ANY
  /** null: $default */
  segments: Array<{ literal: string } | { param: string }> | null;
  fn: HttpFunction;
}

export function compileRoutes(functions: readonly HttpFunction[]): CompiledRoute[] {
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

export function compareSpecificity(a: CompiledRoute, b: CompiledRoute): number {
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

export function matchRoute(routes: CompiledRoute[], method: string, rawPath: string) {
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
