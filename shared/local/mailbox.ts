/**
 * The local stack's email sandbox: an SMTP server on 127.0.0.1 that keeps the mails it receives
 * (the newest 200, in memory), listed by `GET /local/mailbox` on the local API. Local only: the CDK
 * stack never deploys it. The demo operator's SMTP gateway points at it (see shared/local/seed.ts).
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface MailboxItem {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  receivedAt: string;
}

export interface LocalMailbox {
  host: string;
  port: number;
  /** Newest first. */
  items(): MailboxItem[];
  stop(): Promise<void>;
}

const KEPT = 200;
/** A notification is small; anything bigger is refused (the server is only for the demo). */
const MAX_MESSAGE_BYTES = 5 * 1024 * 1024;

const addresses = (value: unknown): string => {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.map((entry) => (entry as { text?: string }).text ?? '').filter(Boolean).join(', ');
};

export async function startLocalMailbox(): Promise<LocalMailbox> {
  const kept: MailboxItem[] = [];
  const server = new SMTPServer({
    // Loopback only, no TLS, any login accepted (the demo gateway sends none).
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    size: MAX_MESSAGE_BYTES,
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          kept.unshift({
            to: addresses(mail.to),
            from: addresses(mail.from),
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            html: typeof mail.html === 'string' ? mail.html : '',
            messageId: mail.messageId ?? '',
            receivedAt: new Date().toISOString(),
          });
          kept.splice(KEPT);
          callback();
        })
        .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    items: () => [...kept],
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
