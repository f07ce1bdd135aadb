import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookRequest } from '../../shared/ports.js';

export interface WebhookReceiver {
  url: string;
  /** Requests as our webhook handler would see them (full URL, lower-cased headers, raw body). */
  received: WebhookRequest[];
  /** Statuses to answer with, in order; 200 once they run out. */
  replies: number[];
  close(): Promise<void>;
}

/** A stand-in for our public webhook endpoint, for provider tests: records what it receives. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: WebhookRequest[] = [];
  const replies: number[] = [];
  let url = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
      received.push({ method: req.method ?? '', url: `${url}${req.url ?? ''}`, headers, rawBody: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(replies.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    replies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
