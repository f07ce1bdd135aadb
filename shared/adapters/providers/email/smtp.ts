/**
 * An operator's own SMTP server (a submission port with a login, or a relay that needs none),
 * through nodemailer.
 *
 * The host is TENANT-CHOSEN, so it goes through the outbound guard (../../outbound/url-guard.ts)
 * on every send and when the gateway is saved (`checkSmtpGateway`): every address the name resolves
 * to must be public (loopback and private addresses only when the deployment sets
 * ISPNOTIFY_ALLOW_PRIVATE_URLS=1; cloud metadata never). nodemailer is then given the checked
 * ADDRESS as its host, so it never resolves the name itself: a DNS answer that changes between the
 * check and the connection (rebinding) is never used. TLS still sees the original name (SNI and
 * certificate verification: `servername`), and certificates are always verified.
 *
 * Security (settings.security):
 * - tls: implicit TLS from the first byte (port 465, "SMTPS").
 * - starttls: plain connect, then STARTTLS is REQUIRED (587, 25): a server that does not offer it is
 *   a GatewayFault, never a silent fall back to clear text.
 * - none: clear text all the way (STARTTLS ignored even if offered). Only where the deployment sets
 *   ISPNOTIFY_ALLOW_PRIVATE_URLS=1 (tests, a local demo): on the Internet it would send the
 *   password and every message readable by anyone on the path.
 *
 * One connection per message (no pool: a Lambda invocation sends a few messages and then freezes),
 * with 10 s to connect, 10 s for the greeting and 15 s of silence at most during the exchange.
 *
 * What a send gives: the server's 250 reply to the message. Its queue id is taken when the reply
 * has one in a known form (Postfix "queued as X", Exim "id=X", Sendmail "X Message accepted", a
 * "<message-id>" as Exchange and Microsoft 365 answer, Gmail's "OK <ts> <id> - gsmtp", SES's
 * "Ok <id>"); otherwise the providerMessageId is our own Message-ID header, `<{messageId}@ispnotify>`.
 * SMTP gives no delivery events: `sent` is final (receipts: false), and there are no webhooks.
 *
 * Errors, in three classes:
 * - GatewayFault (this gateway cannot send; the message may go through the next one): a wrong
 *   login (535), no STARTTLS when it is required, a TLS handshake that fails (certificate, wrong
 *   port for implicit TLS), the sender refused (MAIL FROM 5xx), a server that will not relay without
 *   a login (530, "relay access denied"), a host the guard refuses, plain SMTP where not allowed.
 * - ProviderRejected (this message or address): the recipient refused (RCPT TO 5xx), the message
 *   refused after DATA (5xx: content, size), an address nodemailer cannot use.
 * - ProviderUnavailable (later): any 4xx reply (greylisting, "try again"; rate-limit words make it
 *   ProviderThrottled), and a connection refused, reset or timed out. A refused connection or a
 *   timeout is treated as temporary, not as a gateway fault: from one attempt it cannot be told
 *   from a server restarting or a network blip, and a gateway fault would fail every message in
 *   flight over to the next gateway and open the gateway's circuit on such a blip. A server that is
 *   simply misconfigured (wrong port) shows up in the gateway's test send with the same words, and
 *   its messages fail once their attempts are spent.
 * Error texts quote the server's reply (sanitized), never the password.
 */
import { isIP, isIPv4 } from 'node:net';
import { createTransport, type SMTPTransportOptions } from 'nodemailer';
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderThrottled, ProviderUnavailable } from '../../../domain/errors.js';
import type { EmailProvider } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { ALLOW_PRIVATE_URLS_ENV, checkOutboundUrl, OutboundUrlRefused } from '../../outbound/url-guard.js';

export const SMTP_ID = 'smtp';

export const SMTP_CONNECTION_TIMEOUT_MS = 10_000;
export const SMTP_GREETING_TIMEOUT_MS = 10_000;
export const SMTP_SOCKET_TIMEOUT_MS = 15_000;
/** For resolving the host through the guard. */
const DNS_TIMEOUT_MS = 5_000;

/** A host name (letters, digits, "-" labels) or an IPv4 address; IPv6 literals are checked apart. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
/** No control characters (CR/LF would break a header or an SMTP command). */
const NO_CONTROL = /^[^\u0000-\u001F\u007F]*$/;

/**
 * The local stack's own mailbox (shared/local/mailbox.ts): `127.0.0.1:<port>`, set by the local
 * runtime in its environment, never by a tenant. Exactly that host and port may be used in plain
 * SMTP on loopback, so the demo can show an email without relaxing the guard for anything else.
 */
export const LOCAL_MAILBOX_ENV = 'ISPNOTIFY_LOCAL_MAILBOX';

const isLocalMailbox = (settings?: { host?: unknown; port?: unknown }) =>
  settings !== undefined && process.env[LOCAL_MAILBOX_ENV] !== undefined && `${String(settings.host)}:${String(settings.port)}` === process.env[LOCAL_MAILBOX_ENV];

/** Whether this deployment allows plain SMTP (the guard's own relaxation, read at each call), or the target is the local mailbox. */
export function plainSmtpAllowed(settings?: { host?: unknown; port?: unknown }): boolean {
  return process.env[ALLOW_PRIVATE_URLS_ENV] === '1' || isLocalMailbox(settings);
}

const PLAIN_REFUSED =
  'cannot be "none" on this deployment: plain SMTP sends the password and every message in clear text over the Internet. ' +
  'Use "starttls" (port 587 or 25) or "tls" (port 465). Plain SMTP is allowed only where the deployment sets ISPNOTIFY_ALLOW_PRIVATE_URLS=1 (tests, a local demo)';

/** `smtp.example.net`, `[2001:db8::1]` or `2001:db8::1` → the bare host (lower case, no trailing dot), or undefined. */
function normaliseHost(value: string): string | undefined {
  let host = value.trim().toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (isIP(host) === 6) return host;
  host = host.replace(/\.$/, '');
  return HOST_NAME.test(host) ? host : undefined;
}

export const SmtpSettings = z
  .strictObject({
    host: z
      .string()
      .trim()
      .max(255, 'must be at most 255 characters')
      .refine((v) => normaliseHost(v) !== undefined, {
        message: 'must be the SMTP server\'s host name (such as smtp.example.net) or IP address, without "smtp://", a port or a path',
      })
      .transform((v) => normaliseHost(v)!)
      .describe('The SMTP server: a host name or IP address. It must resolve to public addresses only.'),
    port: z
      .int('must be a whole number')
      .min(1, 'must be a port number from 1 to 65535')
      .max(65535, 'must be a port number from 1 to 65535')
      .default(587)
      .describe('587 (submission, with starttls), 465 (with tls) or 25.'),
    security: z
      .enum(['tls', 'starttls', 'none'], { message: 'must be "tls" (implicit TLS, port 465), "starttls" (port 587 or 25) or "none"' })
      .default('starttls')
      .describe('tls: TLS from the start (465). starttls: STARTTLS is required. none: clear text, only on deployments that allow private URLs.'),
    fromAddress: z.email('must be an email address such as billing@isp.example').max(254, 'must be at most 254 characters').describe('The From address.'),
    fromName: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(100, 'must be at most 100 characters')
      .regex(NO_CONTROL, 'must be one line of text')
      .optional()
      .describe('The name shown with the From address, such as "Example ISP Billing".'),
    replyTo: z.email('must be an email address').max(254, 'must be at most 254 characters').optional().describe('Where replies go, when not to the From address.'),
  })
  .superRefine((settings, ctx) => {
    if (settings.security === 'none' && !plainSmtpAllowed(settings)) ctx.addIssue({ code: 'custom', path: ['security'], message: PLAIN_REFUSED });
  });
export type SmtpSettings = z.infer<typeof SmtpSettings>;

const LOGIN_FIELD = z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters').regex(NO_CONTROL, 'must be one line of text');

/** Both or neither: a relay that needs no login (by IP, say) exists. */
export const SmtpCredentials = z
  .strictObject({
    user: LOGIN_FIELD.optional().describe('The SMTP login (often the full email address). Leave out with password for a server without login.'),
    password: LOGIN_FIELD.optional().describe('The SMTP password (or app password).'),
  })
  .refine((c) => (c.user === undefined) === (c.password === undefined), {
    message: 'give both user and password, or neither (for a server that needs no login)',
    path: ['password'],
  });
export type SmtpCredentials = z.infer<typeof SmtpCredentials>;

// ---- the host, through the guard ----

export interface CheckedSmtpHost {
  /** The address nodemailer connects to (one the guard checked). */
  address: string;
  /** The name TLS verifies the certificate against (SNI), when the host is a name and not an IP. */
  servername?: string;
}

/** `host:port` as an error names it. */
const target = (settings: Pick<SmtpSettings, 'host' | 'port'>) => (isIP(settings.host) === 6 ? `[${settings.host}]:${settings.port}` : `${settings.host}:${settings.port}`);

/**
 * Resolves the host under the guard's rules: every address must be allowed. Returns the address to
 * connect to (IPv4 first: a Lambda outside a dual-stack VPC has no IPv6 route) and the name for TLS.
 * Throws OutboundUrlRefused or ProviderUnavailable (DNS failed or too slow).
 */
export async function checkSmtpHost(settings: Pick<SmtpSettings, 'host' | 'port'>): Promise<CheckedSmtpHost> {
  if (isLocalMailbox(settings)) return { address: settings.host };
  const host = normaliseHost(String(settings.host ?? ''));
  if (!host) throw new OutboundUrlRefused('is not a valid host name');
  const { url, addresses } = await checkOutboundUrl(`https://${isIP(host) === 6 ? `[${host}]` : host}:${settings.port}/`, { timeoutMs: DNS_TIMEOUT_MS });
  // The URL parser's canonical host (a "0x7f.1" becomes 127.0.0.1, as the guard judged it).
  const canonical = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const address = addresses.find((a) => isIPv4(a)) ?? addresses[0];
  if (address === undefined) throw new OutboundUrlRefused('names a host that has no address', target(settings));
  return isIP(canonical) === 0 ? { address, servername: canonical } : { address };
}

/**
 * The save-time check: the host must pass the guard now (it is checked again on every send, as DNS
 * may change), and plain SMTP must be allowed here. Throws invalid() naming the field.
 */
export async function checkSmtpGateway(settings: Pick<SmtpSettings, 'host' | 'port'> & Partial<Pick<SmtpSettings, 'security'>>): Promise<void> {
  if (settings.security === 'none' && !plainSmtpAllowed(settings)) {
    throw invalid(`The SMTP security ${PLAIN_REFUSED}.`, [{ field: 'settings.security', message: PLAIN_REFUSED }]);
  }
  try {
    await checkSmtpHost(settings);
  } catch (error) {
    if (error instanceof OutboundUrlRefused) {
      throw invalid(`The SMTP host is refused: the host ${error.reason}.`, [{ field: 'settings.host', message: `is refused: the host ${error.reason}` }]);
    }
    if (error instanceof ProviderUnavailable) {
      throw invalid(`The SMTP host could not be checked: ${error.message}`, [
        { field: 'settings.host', message: 'could not be checked now (its name did not resolve in time); try again' },
      ]);
    }
    throw error;
  }
}

// ---- sending ----

/** The options nodemailer connects with: the checked address, the name for TLS, verified certificates. */
export function smtpTransportOptions(settings: SmtpSettings, credentials: SmtpCredentials, checked: CheckedSmtpHost): SMTPTransportOptions {
  const tls = { rejectUnauthorized: true, minVersion: 'TLSv1.2' as const, ...(checked.servername ? { servername: checked.servername } : {}) };
  const options: SMTPTransportOptions = {
    host: checked.address,
    port: settings.port,
    secure: settings.security === 'tls',
    requireTLS: settings.security === 'starttls',
    ignoreTLS: settings.security === 'none',
    tls,
    // The sender's domain in EHLO (the machine's own name means nothing to the server).
    name: settings.fromAddress.split('@').pop() || 'ispnotify',
    connectionTimeout: SMTP_CONNECTION_TIMEOUT_MS,
    greetingTimeout: SMTP_GREETING_TIMEOUT_MS,
    socketTimeout: SMTP_SOCKET_TIMEOUT_MS,
    socketCloseTimeout: 1_000,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
    debug: false,
  };
  if (checked.servername) options.servername = checked.servername;
  if (credentials.user !== undefined && credentials.password !== undefined) {
    options.auth = { user: credentials.user, pass: credentials.password };
    // Log in even if the server does not advertise AUTH: sending unauthenticated would only fail
    // later as a refused recipient ("relay access denied"), in misleading words.
    options.forceAuth = true;
  }
  return options;
}

/** Our Message-ID header for a message. */
export const smtpMessageIdHeader = (messageId: string) => `<${messageId}@ispnotify>`;

const QUEUE_ID_PATTERNS: RegExp[] = [
  /\bqueued as ([A-Za-z0-9][A-Za-z0-9._-]{3,100})\b/i, // Postfix
  /\bid=([A-Za-z0-9][A-Za-z0-9._-]{3,100})\b/, // Exim
  /^250[ -](?:[245]\.\d{1,3}\.\d{1,3} )?([A-Za-z0-9]{8,64}) Message accepted for delivery/i, // Sendmail
  /^250[ -](?:[245]\.\d{1,3}\.\d{1,3} )?OK +\d+ +(\S{4,100}) +- +gsmtp\b/i, // Gmail
  /^250[ -](?:[245]\.\d{1,3}\.\d{1,3} )?(?:OK |Queued mail for delivery )?.*?(<[^<>\s]{3,200}>)/i, // Exchange, Microsoft 365
  /^250[ -]Ok ([0-9a-f]+(?:-[0-9a-f]+){2,})$/i, // Amazon SES SMTP
];

/** The server's queue id in its 250 reply to the message, when the reply has one in a known form. */
export function smtpQueueId(response: unknown): string | undefined {
  if (typeof response !== 'string') return undefined;
  const reply = response.trim().slice(0, 512);
  if (!reply.startsWith('250')) return undefined;
  for (const pattern of QUEUE_ID_PATTERNS) {
    const id = pattern.exec(reply)?.[1];
    if (id) return id;
  }
  return undefined;
}

type NodemailerError = Error & {
  code?: unknown;
  originalCode?: unknown;
  responseCode?: unknown;
  response?: unknown;
  command?: unknown;
};

const TLS_WORDS = /CERT|TLS|SSL|SELF_SIGNED|ALTNAME|UNABLE_TO|EPROTO|wrong version|handshake/i;
const THROTTLE_WORDS = /too many|rate.?limit|throttl|exceeded|slow down/i;
const RELAY_WORDS = /relay|authenticat|auth(entication)? required|not permitted/i;

/** The server's reply (or the error's words), safe for a message's history; "" when none. */
function quoted(e: NodemailerError): string {
  const response = typeof e.response === 'string' ? e.response : '';
  return safeExcerpt(response || e.message || '', 200);
}

/** The error a failed send means, in words an operator can act on (never the password). */
export function smtpFailure(error: unknown, settings: Pick<SmtpSettings, 'host' | 'port' | 'fromAddress'>): GatewayFault | ProviderRejected | ProviderUnavailable {
  if (error instanceof GatewayFault || error instanceof ProviderRejected || error instanceof ProviderUnavailable) return error;
  const server = `The SMTP server ${target(settings)}`;
  if (error instanceof OutboundUrlRefused) {
    return new GatewayFault(`The SMTP host is refused: the host ${error.reason}.`, 'host-refused');
  }
  const e = (error ?? {}) as NodemailerError;
  const code = typeof e.code === 'string' ? e.code : '';
  const original = typeof e.originalCode === 'string' ? e.originalCode : '';
  const command = typeof e.command === 'string' ? e.command : '';
  const status = typeof e.responseCode === 'number' ? e.responseCode : 0;
  const said = quoted(e);
  const reply = said ? ` (${said})` : '';

  // A 4xx anywhere: the server asks us to come back later.
  if (status >= 400 && status < 500) {
    if (THROTTLE_WORDS.test(said)) return new ProviderThrottled(`${server} is limiting our sending rate${reply}; it will be retried.`, `smtp-${status}`);
    return new ProviderUnavailable(`${server} answered with a temporary error${command ? ` to ${command}` : ''}${reply}; it will be retried.`, `smtp-${status}`);
  }

  switch (code) {
    case 'EAUTH': {
      if (status === 535 || status === 530 || status === 534) {
        return new GatewayFault(`${server} refused the login: wrong user name or password${reply}.`, 'auth');
      }
      if (status >= 500) {
        return new GatewayFault(
          `${server} does not accept a login this way${reply}: it may offer no AUTH at all (leave user and password out for a server that needs no login).`,
          'auth',
        );
      }
      return new GatewayFault(`${server} could not log in${reply}.`, 'auth');
    }
    case 'ETLS': {
      if (command === 'STARTTLS' && status > 0) {
        return new GatewayFault(
          `${server} does not offer STARTTLS${reply}. Use security "tls" if this is an implicit-TLS port such as 465; a server without TLS cannot be used.`,
          'starttls',
        );
      }
      return new GatewayFault(`${server}: TLS handshake failed: ${safeExcerpt(e.message.replace(/^Error initiating TLS - /, ''), 200)}.`, 'tls');
    }
    case 'EENVELOPE': {
      if (command === 'MAIL FROM' || (command === 'API' && /sender/i.test(e.message))) {
        return new GatewayFault(`${server} refused the sender <${settings.fromAddress}>${reply}.`, 'sender-refused');
      }
      if (command === 'RCPT TO' || command === 'API') {
        if (status === 530 || (status >= 500 && RELAY_WORDS.test(said))) {
          return new GatewayFault(
            `${server} will not relay the message for us${reply}: it needs a login (user and password), or the login lacks the right to send to other domains.`,
            'relay-refused',
          );
        }
        return new ProviderRejected(`${server} refused the recipient${reply}.`, status ? `smtp-${status}` : 'recipient-refused');
      }
      return new ProviderRejected(`${server} refused the message${reply}.`, status ? `smtp-${status}` : 'message-refused');
    }
    case 'EMESSAGE':
      return new ProviderRejected(`${server} refused the message${reply}.`, status ? `smtp-${status}` : 'message-refused');
    case 'ETIMEDOUT':
      return new ProviderUnavailable(`${server} did not answer in time (${safeExcerpt(e.message, 80)}); it will be retried.`, 'timeout');
    case 'EPROTOCOL':
    case 'ECONNECTION':
      if (status >= 500) return new GatewayFault(`${server} refused the connection${reply}.`, `smtp-${status}`);
      break;
    default:
      break;
  }
  if (TLS_WORDS.test(original) || (code === 'ESOCKET' && TLS_WORDS.test(e.message))) {
    const hint = /wrong version|EPROTO/i.test(`${original} ${e.message}`) ? ' (is this an implicit-TLS port? use security "starttls" for 587 or 25)' : '';
    return new GatewayFault(`${server}: TLS handshake failed: ${safeExcerpt(e.message, 200)}${hint}.`, 'tls');
  }
  const cause = original || code || e.name || 'error';
  return new ProviderUnavailable(`Could not reach ${server.replace(/^The /, 'the ')} (${cause}: ${safeExcerpt(e.message, 160)}); it will be retried.`, 'network');
}

// ---- the provider ----

export const smtpEmail: EmailProvider<SmtpCredentials, SmtpSettings> = {
  id: SMTP_ID,
  channel: 'email',
  displayName: 'SMTP server (your own)',
  credentials: SmtpCredentials,
  settings: SmtpSettings,
  receipts: false,
  /** One connection per message: gentle on a small self-hosted server. */
  defaultMaxPerSecond: 5,

  async send(message, { credentials, settings }) {
    if (settings.security === 'none' && !plainSmtpAllowed(settings)) {
      throw new GatewayFault(`The SMTP gateway's security ${PLAIN_REFUSED}.`, 'plain-refused');
    }
    let checked: CheckedSmtpHost;
    try {
      checked = await checkSmtpHost(settings);
    } catch (error) {
      throw smtpFailure(error, settings);
    }
    const messageIdHeader = smtpMessageIdHeader(message.messageId);
    const transport = createTransport(smtpTransportOptions(settings, credentials, checked));
    try {
      const info = await transport.sendMail({
        from: settings.fromName ? { name: settings.fromName, address: settings.fromAddress } : settings.fromAddress,
        to: message.to,
        ...(settings.replyTo ? { replyTo: settings.replyTo } : {}),
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: messageIdHeader,
      });
      // A server that took the message for none of its recipients would have failed the send.
      return { providerMessageId: smtpQueueId(info.response) ?? messageIdHeader };
    } catch (error) {
      throw smtpFailure(error, settings);
    } finally {
      transport.close();
    }
  },

  /** SMTP has no webhooks: nothing is ever accepted. */
  verifySignature() {
    return false;
  },

  parseWebhook() {
    return [];
  },
};
