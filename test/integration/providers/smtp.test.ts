/**
 * The SMTP provider against a real SMTP server (smtp-server, on 127.0.0.1 and a free port), with
 * what arrived read back by mailparser.
 *
 * Names: the provider never lets nodemailer resolve a host name; it resolves it through the
 * outbound guard and connects to the checked address. The guard's DNS (node:dns/promises) is
 * mocked here so that names under .ispnotify.test (a reserved TLD: real DNS never answers it)
 * resolve to addresses of the test's choosing; a delivery to such a name therefore proves the
 * connection went to the address the guard checked.
 *
 * TLS: the test makes its own certificate for smtp.ispnotify.test and adds it to the trust of
 * tls.connect calls that ask for a *.ispnotify.test server name (Node 20 has no API to add a CA
 * for one process at run time), so the provider's certificate and host name checks run for real.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { emailProviders } from '../../../shared/adapters/providers/email/registry.js';
import {
  checkSmtpGateway,
  LOCAL_MAILBOX_ENV,
  SmtpCredentials,
  SmtpSettings,
  smtpEmail,
  smtpQueueId,
  smtpTransportOptions,
  type SmtpSettings as SmtpSettingsType,
} from '../../../shared/adapters/providers/email/smtp.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderThrottled, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundEmail, ProviderContext } from '../../../shared/ports.js';
import { rejection } from '../../support/expect-error.js';
import { freePortThatRefuses } from '../../support/net.js';

const names = vi.hoisted(() => ({ map: new Map<string, string[]>(), asked: [] as string[] }));

vi.mock('node:dns/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:dns/promises')>();
  const lookup = async (hostname: string, options?: unknown) => {
    names.asked.push(hostname);
    const addresses = names.map.get(hostname.toLowerCase());
    if (addresses) return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    if (hostname.endsWith('.ispnotify.test')) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return (actual.lookup as (h: string, o?: unknown) => Promise<unknown>)(hostname, options);
  };
  return { ...actual, lookup, default: { ...actual, lookup } };
});

const ENV = 'ISPNOTIFY_ALLOW_PRIVATE_URLS';
const HOST = 'smtp.ispnotify.test';
const USER = 'billing@isp.example';
const PASSWORD = 'correct horse battery staple';
const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };

const email = (overrides: Partial<OutboundEmail> = {}): OutboundEmail => ({
  messageId: '01JNMSG0000000000000000000',
  to: 'rahim@customer.example',
  subject: 'বিল due — ৳1,200 by 5 Dec',
  html: '<p>Dear Rahim, your bill is <b>BDT 1,200</b> &amp; due on 5 Dec.</p>',
  text: 'Dear Rahim, your bill is BDT 1,200 & due on 5 Dec.',
  ...overrides,
});

const settingsFor = (port: number, extra: Partial<SmtpSettingsType> = {}): SmtpSettingsType => ({
  host: HOST,
  port,
  security: 'starttls',
  fromAddress: 'billing@isp.example',
  fromName: 'Example ISP Billing',
  replyTo: 'support@isp.example',
  ...extra,
});

const login = { user: USER, password: PASSWORD };

// ---- certificates ----

let dir: string;
let certPem: string;
let keyPem: string;

function makeCertificate(name: string, file: string): void {
  execFileSync(
    '/usr/bin/openssl',
    [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`,
      '-addext', `subjectAltName=DNS:${name}`,
      '-keyout', join(dir, `${file}.key`), '-out', join(dir, `${file}.pem`),
    ],
    { stdio: 'ignore' },
  );
}

const realTlsConnect = tls.connect;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smtp-test-'));
  makeCertificate(HOST, 'server');
  certPem = readFileSync(join(dir, 'server.pem'), 'utf8');
  keyPem = readFileSync(join(dir, 'server.key'), 'utf8');
  // Trust the test certificate for *.ispnotify.test server names only (see the top of the file).
  (tls as { connect: unknown }).connect = (...args: unknown[]) => {
    const options = args[0] as tls.ConnectionOptions | undefined;
    if (options && typeof options === 'object' && options.servername?.endsWith('.ispnotify.test')) {
      return (realTlsConnect as (...a: unknown[]) => tls.TLSSocket)({ ...options, ca: [certPem] }, ...args.slice(1));
    }
    return (realTlsConnect as (...a: unknown[]) => tls.TLSSocket)(...args);
  };
});

afterAll(() => {
  (tls as { connect: unknown }).connect = realTlsConnect;
  rmSync(dir, { recursive: true, force: true });
});

// ---- the server ----

interface Received {
  mail: ParsedMail;
  mailFrom: string;
  rcptTo: string[];
  user: string | undefined;
  secure: boolean;
  servername: string | undefined;
  remoteAddress: string;
}

interface TestServer {
  port: number;
  received: Received[];
  connections: number;
  sni: string[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];

/** A real SMTP server on 127.0.0.1; `options` override the defaults (STARTTLS with the test certificate, login required). */
async function startSmtp(options: Partial<SMTPServerOptions> & { dataReply?: string | Error; builtInCertificate?: boolean } = {}): Promise<TestServer> {
  const { dataReply = 'Ok: queued as 4XyZ12AbC9', builtInCertificate = false, ...rest } = options;
  const state: TestServer = { port: 0, received: [], connections: 0, sni: [], close: async () => {} };
  const server = new SMTPServer({
    ...(builtInCertificate ? {} : { key: keyPem, cert: certPem }),
    authOptional: false,
    disableReverseLookup: true,
    logger: false,
    SNICallback: (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => {
      state.sni.push(servername);
      cb(null);
    },
    onConnect(_session, callback) {
      state.connections++;
      callback();
    },
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASSWORD) return callback(null, { user: auth.username });
      return callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          state.received.push({
            mail,
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
            user: session.user as string | undefined,
            secure: session.secure,
            servername: (session as { servername?: string }).servername,
            remoteAddress: session.remoteAddress,
          });
          if (dataReply instanceof Error) callback(dataReply);
          else callback(null, dataReply);
        })
        .catch((error: Error) => callback(error));
    },
    ...rest,
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.server.address() as AddressInfo).port;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  servers.push(state);
  return state;
}

const envBefore = process.env[ENV];
function restoreEnv(): void {
  if (envBefore === undefined) delete process.env[ENV];
  else process.env[ENV] = envBefore;
}

beforeEach(() => {
  process.env[ENV] = '1';
  names.map.clear();
  names.map.set(HOST, ['127.0.0.1']);
  names.asked.length = 0;
});

afterEach(async () => {
  restoreEnv();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const addresses = (field: AddressObject | AddressObject[] | undefined) => (Array.isArray(field) ? field : field ? [field] : []).flatMap((a) => a.value);

// ---- tests ----

describe('the smtp provider', () => {
  it('is registered as the email provider "smtp", without receipts or webhooks', async () => {
    expect(emailProviders.smtp).toBe(smtpEmail);
    expect(smtpEmail.channel).toBe('email');
    expect(smtpEmail.displayName).toBe('SMTP server (your own)');
    expect(smtpEmail.receipts).toBe(false);
    const request = { method: 'POST', url: 'https://notify.example.net/webhooks/email/smtp/x', headers: {}, rawBody: '{}' };
    expect(await smtpEmail.verifySignature(request, { credentials: {}, settings: settingsFor(587) }, ctx)).toBe(false);
    expect(smtpEmail.parseWebhook(request, { settings: settingsFor(587) })).toEqual([]);
  });
});

describe('smtp settings and credentials', () => {
  const issues = (schema: typeof SmtpSettings | typeof SmtpCredentials, input: unknown) => {
    const parsed = schema.safeParse(input);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('defaults the port to 587 and security to starttls, and normalises the host', () => {
    expect(SmtpSettings.parse({ host: ' Mail.Example.NET. ', fromAddress: 'billing@isp.example' })).toEqual({
      host: 'mail.example.net',
      port: 587,
      security: 'starttls',
      fromAddress: 'billing@isp.example',
    });
    expect(SmtpSettings.parse({ host: '[2001:db8::25]', port: 465, security: 'tls', fromAddress: 'a@isp.example' }).host).toBe('2001:db8::25');
  });

  it('refuses a URL as host, a port out of range, an unknown security and a bad From address', () => {
    expect(issues(SmtpSettings, { host: 'smtp://mail.example.net:587', fromAddress: 'a@isp.example' })).toEqual([expect.stringMatching(/^host: .*without "smtp:\/\/"/)]);
    expect(issues(SmtpSettings, { host: 'mail.example.net', port: 70000, fromAddress: 'a@isp.example' })).toEqual(['port: must be a port number from 1 to 65535']);
    expect(issues(SmtpSettings, { host: 'mail.example.net', security: 'ssl', fromAddress: 'a@isp.example' })[0]).toMatch(/^security: must be "tls"/);
    expect(issues(SmtpSettings, { host: 'mail.example.net', fromAddress: 'not-an-address' })[0]).toMatch(/^fromAddress: must be an email address/);
    expect(issues(SmtpSettings, { host: 'mail.example.net', fromAddress: 'a@isp.example', fromName: 'Bad\r\nBcc: x@evil.example' })[0]).toMatch(/^fromName: must be one line/);
  });

  it('refuses security "none" unless the deployment allows private URLs, and says why', () => {
    delete process.env[ENV];
    expect(issues(SmtpSettings, { host: 'mail.example.net', security: 'none', fromAddress: 'a@isp.example' })).toEqual([
      expect.stringMatching(/^security: cannot be "none" on this deployment: plain SMTP sends the password and every message in clear text/),
    ]);
    process.env[ENV] = '1';
    expect(issues(SmtpSettings, { host: 'mail.example.net', security: 'none', fromAddress: 'a@isp.example' })).toEqual([]);
  });

  it('takes user and password together or neither', () => {
    expect(issues(SmtpCredentials, {})).toEqual([]);
    expect(issues(SmtpCredentials, login)).toEqual([]);
    expect(issues(SmtpCredentials, { user: USER })).toEqual(['password: give both user and password, or neither (for a server that needs no login)']);
    expect(issues(SmtpCredentials, { ...login, apiKey: 'x' })[0]).toMatch(/apiKey|Unrecognized/);
  });

  it('connects nodemailer to the checked address, with the host name for TLS and certificate checks on', () => {
    const options = smtpTransportOptions(settingsFor(587), login, { address: '198.51.100.25', servername: 'mail.example.net' });
    expect(options).toMatchObject({
      host: '198.51.100.25',
      servername: 'mail.example.net',
      port: 587,
      secure: false,
      requireTLS: true,
      ignoreTLS: false,
      tls: { servername: 'mail.example.net', rejectUnauthorized: true },
      auth: { user: USER, pass: PASSWORD },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 15_000,
    });
    expect(smtpTransportOptions(settingsFor(465, { security: 'tls' }), {}, { address: '198.51.100.25' })).toMatchObject({ secure: true, requireTLS: false });
    expect(smtpTransportOptions(settingsFor(465, { security: 'tls' }), {}, { address: '198.51.100.25' }).auth).toBeUndefined();
  });
});

describe('sending through a real SMTP server', () => {
  it('delivers over STARTTLS with a login: From with its name, To, Reply-To, UTF-8 subject, Message-ID, both parts', async () => {
    const server = await startSmtp();
    const reply = await smtpEmail.send(email(), { credentials: login, settings: settingsFor(server.port) }, ctx);

    expect(reply).toEqual({ providerMessageId: '4XyZ12AbC9' }); // the queue id of the 250 reply
    expect(server.received).toHaveLength(1);
    const got = server.received[0]!;
    expect(got.secure).toBe(true);
    expect(got.user).toBe(USER);
    expect(got.remoteAddress).toMatch(/127\.0\.0\.1$/);
    expect(server.sni).toEqual([HOST]); // TLS was asked for the host name, not the address connected to
    expect(got.mailFrom).toBe('billing@isp.example');
    expect(got.rcptTo).toEqual(['rahim@customer.example']);
    expect(addresses(got.mail.from)).toEqual([{ address: 'billing@isp.example', name: 'Example ISP Billing' }]);
    expect(addresses(got.mail.to)).toEqual([{ address: 'rahim@customer.example', name: '' }]);
    expect(addresses(got.mail.replyTo)).toEqual([{ address: 'support@isp.example', name: '' }]);
    expect(got.mail.subject).toBe('বিল due — ৳1,200 by 5 Dec');
    expect(got.mail.messageId).toBe('<01JNMSG0000000000000000000@ispnotify>');
    expect(got.mail.text?.trim()).toBe('Dear Rahim, your bill is BDT 1,200 & due on 5 Dec.');
    expect(got.mail.html).toBe('<p>Dear Rahim, your bill is <b>BDT 1,200</b> &amp; due on 5 Dec.</p>');
    // The name was resolved once, by the guard; nodemailer was given the address.
    expect(names.asked).toEqual([HOST]);
  });

  it('delivers over implicit TLS, and answers our Message-ID when the reply has no queue id', async () => {
    const server = await startSmtp({ secure: true, dataReply: 'OK: message queued' });
    const reply = await smtpEmail.send(email(), { credentials: login, settings: settingsFor(server.port, { security: 'tls' }) }, ctx);
    expect(reply).toEqual({ providerMessageId: '<01JNMSG0000000000000000000@ispnotify>' });
    expect(server.received[0]?.secure).toBe(true);
    expect(server.sni).toEqual([HOST]);
  });

  it('sends without a login to a server that needs none, in clear text where the deployment allows it', async () => {
    const server = await startSmtp({ authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'] });
    const { fromName: _n, replyTo: _r, ...bare } = settingsFor(server.port, { security: 'none' });
    await smtpEmail.send(email({ to: 'karim@customer.example' }), { credentials: {}, settings: bare }, ctx);
    const got = server.received[0]!;
    expect(got.secure).toBe(false);
    expect(got.user).toBeUndefined();
    expect(addresses(got.mail.from)).toEqual([{ address: 'billing@isp.example', name: '' }]);
    expect(addresses(got.mail.to)).toEqual([{ address: 'karim@customer.example', name: '' }]);
    expect(got.mail.replyTo).toBeUndefined();
  });

  it('turns a wrong password into a GatewayFault that says so, without the password', async () => {
    const server = await startSmtp();
    const error = await rejection(smtpEmail.send(email(), { credentials: { user: USER, password: 'hunter2-wrong' }, settings: settingsFor(server.port) }, ctx));
    expect(error).toBeInstanceOf(GatewayFault);
    expect((error as GatewayFault).code).toBe('auth');
    expect(error.message).toMatch(/refused the login: wrong user name or password \(535/);
    expect(error.message).not.toContain('hunter2-wrong');
    expect(server.received).toHaveLength(0);
  });

  it('turns a refused recipient (550 on RCPT TO) into ProviderRejected', async () => {
    const server = await startSmtp({
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error('5.1.1 <nobody@customer.example>: Recipient address rejected: User unknown'), { responseCode: 550 }));
      },
    });
    const error = await rejection(smtpEmail.send(email({ to: 'nobody@customer.example' }), { credentials: login, settings: settingsFor(server.port) }, ctx));
    expect(error).toBeInstanceOf(ProviderRejected);
    expect(error).not.toBeInstanceOf(GatewayFault);
    expect((error as ProviderRejected).code).toBe('smtp-550');
    expect(error.message).toMatch(/refused the recipient \(550 .*User unknown/);
    expect(server.received).toHaveLength(0);
  });

  it('turns "relay access denied" on RCPT TO into a GatewayFault (the login, not the address)', async () => {
    const server = await startSmtp({
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error('5.7.1 <rahim@customer.example>: Relay access denied'), { responseCode: 554 }));
      },
    });
    const error = await rejection(smtpEmail.send(email(), { credentials: login, settings: settingsFor(server.port) }, ctx));
    expect(error).toBeInstanceOf(GatewayFault);
    expect(error.message).toMatch(/will not relay the message for us/);
  });

  it('turns a refused sender (553 on MAIL FROM) into a GatewayFault naming the sender', async () => {
    const server = await startSmtp({
      onMailFrom(_address, _session, callback) {
        callback(Object.assign(new Error('5.7.1 Sender address rejected: not owned by user'), { responseCode: 553 }));
      },
    });
    const error = await rejection(smtpEmail.send(email(), { credentials: login, settings: settingsFor(server.port) }, ctx));
    expect(error).toBeInstanceOf(GatewayFault);
    expect((error as GatewayFault).code).toBe('sender-refused');
    expect(error.message).toMatch(/refused the sender <billing@isp\.example> \(553 .*not owned by user/);
  });

  it('turns a message refused after DATA into ProviderRejected', async () => {
    const server = await startSmtp({ dataReply: Object.assign(new Error('5.7.1 Message rejected as spam'), { responseCode: 554 }) });
    const error = await rejection(smtpEmail.send(email(), { credentials: login, settings: settingsFor(server.port) }, ctx));
    expect(error).toBeInstanceOf(ProviderRejected);
    expect(error.message).toMatch(/refused the message \(554 .*spam/);
  });

  it('turns a 4xx into ProviderUnavailable, and a 4xx about rates into ProviderThrottled', async () => {
    let reply = { code: 451, text: '4.3.0 Temporary lookup failure, try again' };
    const server = await startSmtp({
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error(reply.text), { responseCode: reply.code }));
      },
    });
    const first = await rejection(smtpEmail.send(email(), { credentials: login, settings: settingsFor(server.port) }, ctx));
    expect(first).toBeInstanceOf(ProviderUnavailable);
    expect(first).not.toBeInstanceOf(ProviderThrottled);
    expect((first as ProviderUnavailable).code).toBe('smtp-451');
    expect(first.message).toMatch(/temporary error to RCPT TO \(451 /);

    reply = { code: 450, text: '4.7.1 Too many messages, rate limit exceeded' };
    const second = await rejection(smtpEmail.send(email(), { credentials: login, settings: settingsFor(server.port) }, ctx));
    expect(second).toBeInstanceOf(ProviderThrottled);
    expect(second.message).toMatch(/limiting our sending rate/);
  });

  it('refuses to go on in clear text when STARTTLS is required but the server does not offer it', async () => {
    const server = await startSmtp({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true });
    const error = await rejection(smtpEmail.send(email(), { credentials: login, settings: settingsFor(server.port) }, ctx));
    expect(error).toBeInstanceOf(GatewayFault);
    expect((error as GatewayFault).code).toBe('starttls');
    expect(error.message).toMatch(/does not offer STARTTLS \(500 /);
    expect(server.received).toHaveLength(0);
  });

  it('refuses a certificate nobody vouches for (the server\'s own self-signed one) as a failed TLS handshake', async () => {
    // No key/cert: smtp-server falls back to its built-in self-signed certificate.
    const server = await startSmtp({ builtInCertificate: true });
    names.map.set('selfsigned.example.net', ['127.0.0.1']);
    const error = await rejection(smtpEmail.send(email(), { credentials: login, settings: settingsFor(server.port, { host: 'selfsigned.example.net' }) }, ctx));
    expect(error).toBeInstanceOf(GatewayFault);
    expect((error as GatewayFault).code).toBe('tls');
    expect(error.message).toMatch(/TLS handshake failed: .*(self[- ]signed|certificate)/i);
    expect(server.sni).toEqual(['selfsigned.example.net']);
    expect(server.received).toHaveLength(0);
  });

  it('refuses a trusted certificate for another name than the host (checked against the name, not the address)', async () => {
    const server = await startSmtp({ secure: true });
    names.map.set('other.ispnotify.test', ['127.0.0.1']);
    const error = await rejection(smtpEmail.send(email(), { credentials: login, settings: settingsFor(server.port, { host: 'other.ispnotify.test', security: 'tls' }) }, ctx));
    expect(error).toBeInstanceOf(GatewayFault);
    expect(error.message).toMatch(/TLS handshake failed: .*(does not match|altnames)/i);
    expect(server.received).toHaveLength(0);
  });

  it('turns implicit TLS against a STARTTLS port into a GatewayFault about TLS', async () => {
    const server = await startSmtp();
    const error = await rejection(smtpEmail.send(email(), { credentials: login, settings: settingsFor(server.port, { security: 'tls' }) }, ctx));
    expect(error).toBeInstanceOf(GatewayFault);
    expect((error as GatewayFault).code).toBe('tls');
    expect(error.message).toMatch(/TLS handshake failed/);
  });

  it('turns a refused connection into ProviderUnavailable (retried, not failed over)', async () => {
    const port = await freePortThatRefuses();
    const error = await rejection(smtpEmail.send(email(), { credentials: login, settings: settingsFor(port) }, ctx));
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error).not.toBeInstanceOf(GatewayFault);
    expect((error as ProviderUnavailable).code).toBe('network');
    expect(error.message).toMatch(/ECONNREFUSED/);
  });
});

describe('the outbound guard on the SMTP host', () => {
  it('refuses 127.0.0.1 without ISPNOTIFY_ALLOW_PRIVATE_URLS, before any connection', async () => {
    const server = await startSmtp();
    delete process.env[ENV];
    const error = await rejection(smtpEmail.send(email(), { credentials: login, settings: settingsFor(server.port, { host: '127.0.0.1' }) }, ctx));
    expect(error).toBeInstanceOf(GatewayFault);
    expect((error as GatewayFault).code).toBe('host-refused');
    expect(error.message).toMatch(/The SMTP host is refused: the host points to .*loopback.*\(127\.0\.0\.1\)/i);
    expect(server.connections).toBe(0);
  });

  it('refuses a name that resolves to a private address, and never connects to it', async () => {
    const server = await startSmtp();
    delete process.env[ENV];
    const error = await rejection(smtpEmail.send(email(), { credentials: login, settings: settingsFor(server.port) }, ctx));
    expect(error).toBeInstanceOf(GatewayFault);
    expect(error.message).toMatch(/resolves to .*\(127\.0\.0\.1\)/);
    expect(server.connections).toBe(0);
  });

  it('refuses plain SMTP at send time where the deployment does not allow it', async () => {
    const server = await startSmtp({ authOptional: true });
    delete process.env[ENV];
    const error = await rejection(smtpEmail.send(email(), { credentials: {}, settings: settingsFor(server.port, { security: 'none' }) }, ctx));
    expect(error).toBeInstanceOf(GatewayFault);
    expect(error.message).toMatch(/plain SMTP sends the password and every message in clear text/);
    expect(server.connections).toBe(0);
  });

  it('lets plain SMTP to loopback through for exactly the local mailbox the local runtime names, nothing else', async () => {
    const server = await startSmtp({ authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'] });
    const other = await startSmtp({ authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'] });
    delete process.env[ENV];
    const mailboxBefore = process.env[LOCAL_MAILBOX_ENV];
    process.env[LOCAL_MAILBOX_ENV] = `127.0.0.1:${server.port}`;
    try {
      const local = settingsFor(server.port, { host: '127.0.0.1', security: 'none' });
      expect(SmtpSettings.safeParse(local).success).toBe(true);
      await expect(checkSmtpGateway(local)).resolves.toBeUndefined();
      await smtpEmail.send(email(), { credentials: {}, settings: local }, ctx);
      expect(server.received).toHaveLength(1);

      const elsewhere = settingsFor(other.port, { host: '127.0.0.1', security: 'none' });
      expect(SmtpSettings.safeParse(elsewhere).success).toBe(false);
      expect(await rejection(smtpEmail.send(email(), { credentials: {}, settings: elsewhere }, ctx))).toBeInstanceOf(GatewayFault);
      expect(await rejection(smtpEmail.send(email(), { credentials: {}, settings: { ...elsewhere, security: 'starttls' } }, ctx))).toBeInstanceOf(GatewayFault);
      expect(other.connections).toBe(0);
    } finally {
      if (mailboxBefore === undefined) delete process.env[LOCAL_MAILBOX_ENV];
      else process.env[LOCAL_MAILBOX_ENV] = mailboxBefore;
    }
  });

  it('checkSmtpGateway refuses private hosts on settings.host, and lets a public one through', async () => {
    delete process.env[ENV];
    const problem = async (settings: { host: string; port: number; security?: 'tls' | 'starttls' | 'none' }) => {
      const error = await rejection(checkSmtpGateway(settings));
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).kind).toBe('Invalid');
      return (error as DomainError).fields;
    };
    expect(await problem({ host: '10.0.0.5', port: 587 })).toEqual([{ field: 'settings.host', message: expect.stringMatching(/^is refused: the host points to .*10\.0\.0\.5/) }]);
    names.map.set('intranet.ispnotify.test', ['192.168.1.10']);
    expect(await problem({ host: 'intranet.ispnotify.test', port: 587 })).toEqual([{ field: 'settings.host', message: expect.stringMatching(/resolves to .*192\.168\.1\.10/) }]);
    expect(await problem({ host: 'nowhere.ispnotify.test', port: 587 })).toEqual([{ field: 'settings.host', message: expect.stringMatching(/does not exist/) }]);
    expect(await problem({ host: 'mail.example.net', port: 25, security: 'none' })).toEqual([{ field: 'settings.security', message: expect.stringMatching(/clear text/) }]);

    // Cloud metadata stays refused even where private addresses are allowed.
    process.env[ENV] = '1';
    names.map.set('metadata.ispnotify.test', ['169.254.169.254']);
    expect(await problem({ host: 'metadata.ispnotify.test', port: 587 })).toEqual([{ field: 'settings.host', message: expect.stringMatching(/169\.254\.169\.254/) }]);

    delete process.env[ENV];
    names.map.set('mail.ispnotify.test', ['93.184.215.14']);
    await expect(checkSmtpGateway({ host: 'mail.ispnotify.test', port: 587 })).resolves.toBeUndefined();
  });
});

describe('queue ids in 250 replies', () => {
  it.each([
    ['250 2.0.0 Ok: queued as 4FJ3kD0Hx9z9sPq', '4FJ3kD0Hx9z9sPq'],
    ['250 OK id=1rXyZa-000AbC-5d', '1rXyZa-000AbC-5d'],
    ['250 2.0.0 4B1LxYq7012345 Message accepted for delivery', '4B1LxYq7012345'],
    ['250 2.0.0 OK  1712345678 d2e1a72fcca58-6ecea1b0b0esi123456pfb.123 - gsmtp', 'd2e1a72fcca58-6ecea1b0b0esi123456pfb.123'],
    ['250 2.0.0 OK <AM0PR01MB1234.eurprd01.prod.outlook.com> [Hostname=AM0PR01MB1234.eurprd01.prod.outlook.com]', '<AM0PR01MB1234.eurprd01.prod.outlook.com>'],
    ['250 Ok 0100018b5c3c0a4f-1d2e3f4a-5b6c-7d8e-9f00-112233445566-000000', '0100018b5c3c0a4f-1d2e3f4a-5b6c-7d8e-9f00-112233445566-000000'],
  ])('reads %s', (reply, id) => {
    expect(smtpQueueId(reply)).toBe(id);
  });

  it('reads nothing from a reply without an id, or from a non-250 reply', () => {
    expect(smtpQueueId('250 OK: message queued')).toBeUndefined();
    expect(smtpQueueId('550 queued as NOPE1234')).toBeUndefined();
    expect(smtpQueueId(undefined)).toBeUndefined();
  });
});
