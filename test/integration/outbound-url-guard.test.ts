/**
 * The outbound URL guard against real sockets on 127.0.0.1 (no internet): local servers are
 * reached with allowPrivate: true; "public" hosts are names answered by an injected resolver.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProviderUnavailable } from '../../shared/domain/errors.js';
import {
  ALLOW_PRIVATE_URLS_ENV,
  checkOutboundUrl,
  guardedFetch,
  OutboundResponseTooLarge,
  OutboundUrlRefused,
  planRedirect,
  type Resolver,
} from '../../shared/adapters/outbound/url-guard.js';
import { rejection } from '../support/expect-error.js';

/** A resolver that answers every name with these addresses (and records the names asked). */
function resolverTo(...addresses: string[]): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolver = async (hostname: string) => {
    asked.push(hostname);
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolver, { asked });
}

const noDns: Resolver = async (hostname) => {
  throw new Error(`the resolver should not be asked (${hostname})`);
};

async function refusal(promise: Promise<unknown>): Promise<OutboundUrlRefused> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(OutboundUrlRefused);
  return error as OutboundUrlRefused;
}

async function unavailable(promise: Promise<unknown>): Promise<ProviderUnavailable> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(ProviderUnavailable);
  return error as ProviderUnavailable;
}

describe('checking a URL a tenant saves', () => {
  const savedEnv = process.env[ALLOW_PRIVATE_URLS_ENV];
  afterEach(() => {
    if (savedEnv === undefined) delete process.env[ALLOW_PRIVATE_URLS_ENV];
    else process.env[ALLOW_PRIVATE_URLS_ENV] = savedEnv;
  });

  it('accepts an https URL whose host resolves only to public addresses, and returns them', async () => {
    const lookup = resolverTo('93.184.216.34', '2606:2800:220:1::1');
    const checked = await checkOutboundUrl('https://sms.example.com/api/send?x=1', { allowPrivate: false, lookup });
    expect(checked.url.href).toBe('https://sms.example.com/api/send?x=1');
    expect(checked.addresses).toEqual(['93.184.216.34', '2606:2800:220:1::1']);
    expect(lookup.asked).toEqual(['sms.example.com']);
  });

  it('accepts any port on a public host', async () => {
    const checked = await checkOutboundUrl('https://sms.example.com:8443/', { allowPrivate: false, lookup: resolverTo('93.184.216.34') });
    expect(checked.url.port).toBe('8443');
  });

  it('refuses http, and any other scheme, unless private URLs are allowed (http only)', async () => {
    const lookup = resolverTo('93.184.216.34');
    expect((await refusal(checkOutboundUrl('http://sms.example.com/', { allowPrivate: false, lookup }))).reason).toBe(
      'uses http, but only https URLs are allowed',
    );
    for (const url of ['ftp://sms.example.com/', 'file:///etc/passwd', 'gopher://sms.example.com/', 'javascript:alert(1)']) {
      expect((await refusal(checkOutboundUrl(url, { allowPrivate: true, lookup }))).reason, url).toMatch(/only https URLs are allowed/);
    }
    await expect(checkOutboundUrl('http://sms.example.com/', { allowPrivate: true, lookup })).resolves.toMatchObject({ addresses: ['93.184.216.34'] });
  });

  it('refuses a URL with a user name or password', async () => {
    for (const url of ['https://tenant:s3cret@sms.example.com/', 'https://tenant@sms.example.com/', 'https://:s3cret@sms.example.com/']) {
      const refused = await refusal(checkOutboundUrl(url, { allowPrivate: true, lookup: resolverTo('93.184.216.34') }));
      expect(refused.reason).toMatch(/user name or password/);
      expect(refused.message).not.toMatch(/s3cret|tenant/);
    }
  });

  it('refuses text that is not a URL', async () => {
    expect((await refusal(checkOutboundUrl('sms.example.com/send', { lookup: noDns }))).reason).toBe('is not a valid URL');
    expect((await refusal(checkOutboundUrl('https://[::1/', { lookup: noDns }))).reason).toBe('is not a valid URL');
  });

  it.each([
    ['https://127.0.0.1/', 'a loopback address (127.0.0.1)'],
    ['https://2130706433/', 'a loopback address (127.0.0.1)'], // decimal
    ['https://0x7f.1/', 'a loopback address (127.0.0.1)'], // hex, short form
    ['https://0x7f000001/', 'a loopback address (127.0.0.1)'],
    ['https://017700000001/', 'a loopback address (127.0.0.1)'], // octal
    ['https://0177.0.0.01/', 'a loopback address (127.0.0.1)'],
    ['https://127.1/', 'a loopback address (127.0.0.1)'],
    ['https://%31%32%37.0.0.1/', 'a loopback address (127.0.0.1)'], // percent-encoded
    ['https://[::1]/', 'a loopback address (::1)'],
    ['https://[::ffff:127.0.0.1]/', 'a loopback address (::ffff:7f00:1, which carries 127.0.0.1)'],
    ['https://[::ffff:7f00:1]/', 'a loopback address (::ffff:7f00:1, which carries 127.0.0.1)'],
    ['https://[64:ff9b::7f00:1]/', 'a loopback address (64:ff9b::7f00:1, which carries 127.0.0.1)'],
    ['https://[2002:a00:5::]/', 'a private address (2002:a00:5::, which carries 10.0.0.5)'],
    ['https://10.0.0.5/', 'a private address (10.0.0.5)'],
    ['https://0xa000005/', 'a private address (10.0.0.5)'],
    ['https://[fd12::1]/', 'a private address (fd12::1)'],
    ['https://100.64.0.1/', 'a carrier-grade NAT (shared) address (100.64.0.1)'],
    ['https://169.254.169.254/', 'a cloud metadata address (169.254.169.254), which is never allowed'],
    ['https://2852039166/', 'a cloud metadata address (169.254.169.254), which is never allowed'],
    ['https://[fe80::1]/', 'a link-local address (fe80::1)'],
    ['https://0.0.0.0/', 'an unspecified address (0.0.0.0)'],
    ['https://0/', 'an unspecified address (0.0.0.0)'],
    ['https://[::]/', 'an unspecified address (::)'],
    ['https://255.255.255.255/', 'a broadcast address (255.255.255.255)'],
    ['https://224.0.0.251/', 'a multicast address (224.0.0.251)'],
    ['https://192.0.2.1/', 'a documentation address (192.0.2.1)'],
    ['https://240.1.2.3/', 'a reserved address (240.1.2.3)'],
  ])('refuses the literal address in %s, in any spelling, without asking DNS', async (url, description) => {
    const refused = await refusal(checkOutboundUrl(url, { allowPrivate: false, lookup: noDns }));
    expect(refused.reason).toBe(`points to ${description}`);
  });

  it('accepts a public literal address without asking DNS', async () => {
    expect((await checkOutboundUrl('https://93.184.216.34/', { allowPrivate: false, lookup: noDns })).addresses).toEqual(['93.184.216.34']);
    expect((await checkOutboundUrl('https://[2606:2800:220:1::1]/', { allowPrivate: false, lookup: noDns })).addresses).toEqual([
      '2606:2800:220:1::1',
    ]);
  });

  it('refuses a name when any one of its addresses is not allowed', async () => {
    const refused = await refusal(
      checkOutboundUrl('https://sms.example.com/', { allowPrivate: false, lookup: resolverTo('93.184.216.34', '10.0.0.5') }),
    );
    expect(refused.reason).toBe('resolves to a private address (10.0.0.5)');
    expect(refused.target).toBe('sms.example.com');
  });

  it('refuses localhost, through the system resolver, because it resolves to loopback', async () => {
    const refused = await refusal(checkOutboundUrl('https://localhost/', { allowPrivate: false }));
    expect(refused.reason).toMatch(/^resolves to a loopback address \((127\.0\.0\.1|::1)\)$/);
  });

  it('lets the deployment allow http and loopback/private addresses for tests and the demo', async () => {
    const local = await checkOutboundUrl('http://localhost:3000/sandbox', { allowPrivate: true });
    expect(local.addresses.length).toBeGreaterThan(0);
    await expect(checkOutboundUrl('http://10.0.0.5/', { allowPrivate: true, lookup: noDns })).resolves.toBeDefined();
    await expect(checkOutboundUrl('http://[fd12::1]/', { allowPrivate: true, lookup: noDns })).resolves.toBeDefined();
    // ...but nothing else: CGNAT, link-local, reserved stay blocked
    await refusal(checkOutboundUrl('http://100.64.0.1/', { allowPrivate: true, lookup: noDns }));
    await refusal(checkOutboundUrl('http://169.254.1.1/', { allowPrivate: true, lookup: noDns }));
    await refusal(checkOutboundUrl('http://[fe80::1]/', { allowPrivate: true, lookup: noDns }));
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', noDns],
    ['http://[fd00:ec2::254]/latest/meta-data/', noDns],
    ['http://[::ffff:169.254.169.254]/', noDns],
    ['http://100.100.100.200/latest/meta-data/', noDns],
    ['http://168.63.129.16/machine', noDns],
    ['http://metadata.google.internal/computeMetadata/v1/', resolverTo('169.254.169.254')],
  ])('never allows the cloud metadata service (%s), not even with private URLs allowed', async (url, lookup) => {
    const refused = await refusal(checkOutboundUrl(url, { allowPrivate: true, lookup }));
    expect(refused.reason).toMatch(/a cloud metadata address \(.+\), which is never allowed$/);
  });

  it('reads ISPNOTIFY_ALLOW_PRIVATE_URLS at each call, and an explicit option wins over it', async () => {
    delete process.env[ALLOW_PRIVATE_URLS_ENV];
    await refusal(checkOutboundUrl('http://127.0.0.1:3000/', { lookup: noDns }));
    process.env[ALLOW_PRIVATE_URLS_ENV] = '1';
    await expect(checkOutboundUrl('http://127.0.0.1:3000/', { lookup: noDns })).resolves.toMatchObject({ addresses: ['127.0.0.1'] });
    await refusal(checkOutboundUrl('http://169.254.169.254/', { lookup: noDns }));
    await refusal(checkOutboundUrl('http://127.0.0.1:3000/', { allowPrivate: false, lookup: noDns }));
    process.env[ALLOW_PRIVATE_URLS_ENV] = 'true'; // only "1" relaxes
    await refusal(checkOutboundUrl('http://127.0.0.1:3000/', { lookup: noDns }));
  });

  it('refuses a host that does not exist, but reports a failing resolver as temporary', async () => {
    const notFound: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND sms.example.invalid'), { code: 'ENOTFOUND' });
    };
    expect((await refusal(checkOutboundUrl('https://sms.example.invalid/', { lookup: notFound }))).reason).toBe(
      'names a host that does not exist (ENOTFOUND)',
    );
    const tryAgain: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo EAI_AGAIN sms.example.com'), { code: 'EAI_AGAIN' });
    };
    const failed = await unavailable(checkOutboundUrl('https://sms.example.com/', { lookup: tryAgain }));
    expect(failed.code).toBe('dns');
    expect(failed.message).toMatch(/EAI_AGAIN/);
    expect((await refusal(checkOutboundUrl('https://sms.example.com/', { lookup: resolverTo() }))).reason).toBe('names a host that has no address');
  });

  it('gives up on a resolver that does not answer within the deadline', async () => {
    const never: Resolver = () => new Promise(() => {});
    const failed = await unavailable(checkOutboundUrl('https://sms.example.com/', { lookup: never, timeoutMs: 50 }));
    expect(failed.code).toBe('timeout');
  });

  it('never repeats the path or query of a refused URL in its message', async () => {
    const refused = await refusal(checkOutboundUrl('https://10.0.0.5/send?api_key=s3cret', { lookup: noDns }));
    expect(refused.message).toBe('Outbound URL refused (10.0.0.5): the URL points to a private address (10.0.0.5).');
  });
});

describe('planning a redirect', () => {
  const from = new URL('https://a.example.com/send');
  const post = { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer k', 'X-Trace': 't' }, body: '{"a":1}' };

  it('turns any method but HEAD into a body-less GET on 303', () => {
    const next = planRedirect(from, 303, '/status/1', post, false);
    expect(next.url.href).toBe('https://a.example.com/status/1');
    expect(next.request).toEqual({ method: 'GET', headers: { Authorization: 'Bearer k', 'X-Trace': 't' } });
    expect(planRedirect(from, 303, '/x', { method: 'HEAD' }, false).request.method).toBe('HEAD');
  });

  it('turns POST into GET on 301 and 302, as browsers do, but keeps other methods', () => {
    expect(planRedirect(from, 301, '/x', post, false).request).toEqual({ method: 'GET', headers: { Authorization: 'Bearer k', 'X-Trace': 't' } });
    expect(planRedirect(from, 302, '/x', post, false).request.method).toBe('GET');
    const put = planRedirect(from, 302, '/x', { ...post, method: 'PUT' }, false).request;
    expect(put).toEqual({ ...post, method: 'PUT' });
  });

  it('keeps the method and body on 307 and 308', () => {
    expect(planRedirect(from, 307, '/x', post, false).request).toEqual(post);
    expect(planRedirect(from, 308, '/x', post, false).request).toEqual(post);
  });

  it('drops credentials when the redirect leaves the origin', () => {
    const request = { method: 'GET', headers: { authorization: 'Bearer k', Cookie: 'c=1', 'Proxy-Authorization': 'p', accept: 'a' } };
    expect(planRedirect(from, 302, 'https://b.example.com/x', request, false).request.headers).toEqual({ accept: 'a' });
    expect(planRedirect(from, 302, 'https://a.example.com:8443/x', request, false).request.headers).toEqual({ accept: 'a' });
    expect(planRedirect(from, 302, '/elsewhere', request, false).request.headers).toEqual(request.headers);
  });

  it('refuses a step down from https to http unless private URLs are allowed', () => {
    expect(() => planRedirect(from, 302, 'http://a.example.com/send', post, false)).toThrow(OutboundUrlRefused);
    expect(() => planRedirect(from, 302, 'http://a.example.com/send', post, false)).toThrow(/redirects from https to http/);
    expect(planRedirect(from, 302, 'http://a.example.com/send', post, true).url.protocol).toBe('http:');
  });

  it('refuses a Location that is not a URL', () => {
    expect(() => planRedirect(from, 302, 'http://[oops/', post, false)).toThrow(/redirects to an invalid URL/);
  });
});

interface Seen {
  method: string;
  url: string;
  host: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
  remoteAddress: string | undefined;
}

describe('fetching through the guard', () => {
  let server: http.Server;
  let base: string;
  let port: number;
  let seen: Seen[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      res.on('error', () => {});
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          host: req.headers.host,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          remoteAddress: req.socket.remoteAddress,
        });
        const url = new URL(req.url ?? '/', 'http://local');
        const path = url.pathname;
        if (path === '/ok') {
          res.writeHead(200, { 'content-type': 'text/plain', 'x-reply': 'yes' }).end('hello');
        } else if (path === '/fail') {
          res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream broke');
        } else if (path === '/redirect') {
          res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to') ?? '/ok' }).end('moved');
        } else if (path === '/no-location') {
          res.writeHead(302).end('nowhere');
        } else if (path === '/loop') {
          res.writeHead(302, { location: '/loop' }).end();
        } else if (path.startsWith('/chain/')) {
          const left = Number(path.slice('/chain/'.length));
          if (left > 0) res.writeHead(302, { location: `/chain/${left - 1}` }).end();
          else res.writeHead(200).end('end of chain');
        } else if (path === '/hang') {
          // never answers
        } else if (path === '/slow-body') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first part...');
        } else if (path === '/big') {
          res.writeHead(200, { 'content-type': 'text/plain' }); // chunked: no content-length to trust
          res.end(Buffer.alloc(1024 * 1024, 'x'));
        } else if (path === '/big-declared') {
          res.writeHead(200, { 'content-length': String(1024 * 1024) });
          res.end(Buffer.alloc(1024 * 1024, 'y'));
        } else if (path.startsWith('/bytes/')) {
          res.writeHead(200).end(Buffer.alloc(Number(path.slice('/bytes/'.length)), 'z'));
        } else {
          res.writeHead(404).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  afterEach(() => {
    seen = [];
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const local = { allowPrivate: true, lookup: noDns };

  it('returns the status, headers, body and final URL of a reply', async () => {
    const reply = await guardedFetch(`${base}/ok?a=1`, { method: 'GET' }, local);
    expect(reply).toMatchObject({ status: 200, body: 'hello', url: `${base}/ok?a=1` });
    expect(reply.headers['x-reply']).toBe('yes');
    expect(reply.headers['content-type']).toBe('text/plain');
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /ok?a=1']);
  });

  it('sends the method, headers and body it is given, and sets Host and Content-Length itself', async () => {
    await guardedFetch(
      `${base}/ok`,
      { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k1', Host: 'evil.example', 'Content-Length': '1' }, body: '{"to":"+8801711223344"}' },
      local,
    );
    const [request] = seen;
    expect(request).toMatchObject({ method: 'POST', body: '{"to":"+8801711223344"}', host: `127.0.0.1:${port}` });
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['x-api-key']).toBe('k1');
    expect(request!.headers['content-length']).toBe('23');
  });

  it('returns an HTTP error status instead of throwing', async () => {
    const reply = await guardedFetch(`${base}/fail`, { method: 'GET' }, local);
    expect(reply).toMatchObject({ status: 500, body: 'upstream broke' });
  });

  it('refuses http and loopback URLs unless private URLs are allowed, before connecting', async () => {
    expect((await refusal(guardedFetch(`${base}/ok`, { method: 'GET' }, { allowPrivate: false, lookup: noDns }))).reason).toMatch(/only https/);
    const refused = await refusal(guardedFetch(`https://127.0.0.1:${port}/ok`, { method: 'GET' }, { allowPrivate: false, lookup: noDns }));
    expect(refused.reason).toBe('points to a loopback address (127.0.0.1)');
    expect(seen).toEqual([]);
  });

  it('connects to the address it checked, under the original host name', async () => {
    const lookup = resolverTo('127.0.0.1');
    // .test names never resolve in real DNS: the request can only arrive through the pinned address.
    const reply = await guardedFetch(`http://gateway.test:${port}/ok`, { method: 'GET' }, { allowPrivate: true, lookup });
    expect(reply).toMatchObject({ status: 200, url: `http://gateway.test:${port}/ok` });
    expect(lookup.asked).toEqual(['gateway.test']);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ host: `gateway.test:${port}`, remoteAddress: '127.0.0.1' });
  });

  it('ignores a DNS answer that changes after the check (no rebinding)', async () => {
    let calls = 0;
    // First answer: the checked, listening address; any later answer points where nothing listens.
    const rebinding: Resolver = async () => [{ address: calls++ === 0 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
    const reply = await guardedFetch(`http://rebind.test:${port}/ok`, { method: 'GET' }, { allowPrivate: true, lookup: rebinding });
    expect(reply.status).toBe(200);
    expect(calls).toBe(1);
  });

  it('refuses a name that resolves to a blocked address before connecting', async () => {
    const refused = await refusal(
      guardedFetch(`http://gateway.test:${port}/ok`, { method: 'GET' }, { allowPrivate: true, lookup: resolverTo('127.0.0.1', '169.254.169.254') }),
    );
    expect(refused.reason).toBe('resolves to a cloud metadata address (169.254.169.254), which is never allowed');
    expect(seen).toEqual([]);
  });

  it('follows a redirect to another allowed path and reports the final URL', async () => {
    const reply = await guardedFetch(`${base}/redirect?to=/ok`, { method: 'GET' }, local);
    expect(reply).toMatchObject({ status: 200, body: 'hello', url: `${base}/ok` });
    expect(seen.map((s) => s.url)).toEqual(['/redirect?to=/ok', '/ok']);
  });

  it('checks every redirect again: the metadata service is refused even with private URLs allowed', async () => {
    for (const target of ['http://169.254.169.254/latest/meta-data/', 'http://[::ffff:a9fe:a9fe]/', 'http://2852039166/']) {
      const refused = await refusal(guardedFetch(`${base}/redirect?to=${encodeURIComponent(target)}`, { method: 'GET' }, local));
      expect(refused.reason, target).toMatch(/^was redirected to a URL that points to a cloud metadata address .*never allowed$/);
    }
    expect(seen.every((s) => s.url.startsWith('/redirect'))).toBe(true);
  });

  it('resolves and checks the redirect target by name too', async () => {
    const asked: string[] = [];
    const lookup: Resolver = async (hostname) => {
      asked.push(hostname);
      return [{ address: hostname === 'start.test' ? '127.0.0.1' : '169.254.169.254', family: 4 }];
    };
    const url = `http://start.test:${port}/redirect?to=${encodeURIComponent('http://metadata.test/latest/')}`;
    const refused = await refusal(guardedFetch(url, { method: 'GET' }, { allowPrivate: true, lookup }));
    expect(refused.reason).toBe('was redirected to a URL that resolves to a cloud metadata address (169.254.169.254), which is never allowed');
    expect(refused.target).toBe('metadata.test');
    expect(asked).toEqual(['start.test', 'metadata.test']);
  });

  it('refuses a redirect loop after 5 redirects', async () => {
    const refused = await refusal(guardedFetch(`${base}/loop`, { method: 'GET' }, local));
    expect(refused.reason).toBe('redirected more than 5 times');
    expect(seen).toHaveLength(6); // the first request and 5 redirects
  });

  it('follows exactly 5 redirects, and fewer when maxRedirects says so', async () => {
    expect((await guardedFetch(`${base}/chain/5`, { method: 'GET' }, local)).body).toBe('end of chain');
    expect((await refusal(guardedFetch(`${base}/chain/1`, { method: 'GET' }, { ...local, maxRedirects: 0 }))).reason).toBe(
      'redirected more than 0 times',
    );
  });

  it('turns a POST into a GET without body on 303, 302 and 301, and keeps it on 307', async () => {
    const post = { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'payload' };
    for (const status of [303, 302, 301]) {
      seen = [];
      await guardedFetch(`${base}/redirect?status=${status}&to=/ok`, post, local);
      expect(seen.map((s) => [s.method, s.body, s.headers['content-type']]), String(status)).toEqual([
        ['POST', 'payload', 'text/plain'],
        ['GET', '', undefined],
      ]);
    }
    seen = [];
    await guardedFetch(`${base}/redirect?status=307&to=/ok`, post, local);
    expect(seen.map((s) => [s.method, s.body])).toEqual([
      ['POST', 'payload'],
      ['POST', 'payload'],
    ]);
  });

  it('drops the Authorization header when a redirect goes to another origin', async () => {
    const lookup = resolverTo('127.0.0.1');
    const options = { allowPrivate: true, lookup };
    const headers = { authorization: 'Bearer tenant-key' };
    await guardedFetch(`http://a.test:${port}/redirect?to=${encodeURIComponent(`http://b.test:${port}/ok`)}`, { method: 'GET', headers }, options);
    expect(seen.map((s) => [s.host, s.headers.authorization])).toEqual([
      [`a.test:${port}`, 'Bearer tenant-key'],
      [`b.test:${port}`, undefined],
    ]);
    seen = [];
    await guardedFetch(`http://a.test:${port}/redirect?to=/ok`, { method: 'GET', headers }, options);
    expect(seen.map((s) => s.headers.authorization)).toEqual(['Bearer tenant-key', 'Bearer tenant-key']);
  });

  it('returns a redirect status without a Location as the reply', async () => {
    const reply = await guardedFetch(`${base}/no-location`, { method: 'GET' }, local);
    expect(reply).toMatchObject({ status: 302, body: 'nowhere' });
  });

  it('gives up on a server that never answers, as a temporary failure', async () => {
    const started = Date.now();
    const failed = await unavailable(guardedFetch(`${base}/hang`, { method: 'GET' }, { ...local, timeoutMs: 200 }));
    expect(failed.code).toBe('timeout');
    expect(failed.message).toBe(`127.0.0.1:${port} did not answer within 200 ms.`);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('counts the body in the deadline: a reply that never ends times out', async () => {
    const failed = await unavailable(guardedFetch(`${base}/slow-body`, { method: 'GET' }, { ...local, timeoutMs: 300 }));
    expect(failed.code).toBe('timeout');
    expect(failed.message).not.toContain('first part');
  });

  it('stops reading a reply larger than 256 KiB by default, without repeating it', async () => {
    for (const path of ['/big', '/big-declared']) {
      const failed = await unavailable(guardedFetch(`${base}${path}`, { method: 'GET' }, local));
      expect(failed, path).toBeInstanceOf(OutboundResponseTooLarge);
      expect(failed.code).toBe('response-too-large');
      expect(failed.message).toBe(`The reply from 127.0.0.1:${port} is larger than 262144 bytes; reading stopped.`);
    }
  });

  it('accepts a reply of exactly maxResponseBytes and refuses one byte more', async () => {
    expect((await guardedFetch(`${base}/bytes/1000`, { method: 'GET' }, { ...local, maxResponseBytes: 1000 })).body).toHaveLength(1000);
    const failed = await unavailable(guardedFetch(`${base}/bytes/1001`, { method: 'GET' }, { ...local, maxResponseBytes: 1000 }));
    expect(failed).toBeInstanceOf(OutboundResponseTooLarge);
  });

  it('reports a refused connection as a temporary network failure', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const failed = await unavailable(guardedFetch(`http://127.0.0.1:${closedPort}/`, { method: 'GET' }, local));
    expect(failed.code).toBe('network');
    expect(failed.message).toMatch(/^Could not reach 127\.0\.0\.1:\d+: ECONNREFUSED/);
  });
});

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOpenssl)('https through the guard', () => {
  let server: https.Server;
  let port: number;
  let dir: string;
  const serverNames: Array<string> = [];

  beforeAll(async () => {
    // A throwaway self-signed certificate for secure.test, made for this run only.
    dir = mkdtempSync(join(tmpdir(), 'ispnotify-guard-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=secure.test',
        '-addext', 'subjectAltName=DNS:secure.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    const credentials = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
    server = https.createServer(
      {
        ...credentials,
        SNICallback: (name, callback) => {
          serverNames.push(name);
          callback(null, tls.createSecureContext(credentials));
        },
      },
      (_req, res) => res.end('secret'),
    );
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the original host name as SNI and still verifies the certificate of the pinned address', async () => {
    const spy = vi.fn(resolverTo('127.0.0.1'));
    const failed = await unavailable(guardedFetch(`https://secure.test:${port}/`, { method: 'GET' }, { allowPrivate: true, lookup: spy }));
    expect(failed.code).toBe('tls');
    expect(failed.message).toMatch(/self-signed certificate/);
    expect(serverNames).toEqual(['secure.test']);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('ignores NODE_TLS_REJECT_UNAUTHORIZED=0: verification cannot be switched off by the environment', async () => {
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {}); // Node's notice about the variable
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const failed = await unavailable(
        guardedFetch(`https://secure.test:${port}/`, { method: 'GET' }, { allowPrivate: true, lookup: resolverTo('127.0.0.1') }),
      );
      expect(failed.code).toBe('tls');
    } finally {
      warning.mockRestore();
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
    }
  });
});
