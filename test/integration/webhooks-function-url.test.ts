import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/webhooks/receive.js';
import { twilioSignature } from '../../shared/adapters/providers/sms/twilio.js';
import { resetConfig } from '../../shared/config.js';
import { deps } from '../../shared/deps.js';
import { createLambdaContext } from '../../shared/local/lambda-invoke.js';
import { runProviderCallback } from '../../shared/services/provider-callbacks.js';
import { webhookUrl } from '../../shared/services/gateways.js';
import { apiClient, waitFor } from '../support/api-client.js';
import { startDemoStack } from '../support/demo-stack.js';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.js';

/** Where providers post on AWS: the Webhooks function's Lambda function URL (WEBHOOK_BASE_URL). */
const FUNCTION_URL_HOST = 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws';
const accountSid = `AC${'b2'.repeat(16)}`;
const authToken = 'twilio-auth-token-function-url';

let stack: Awaited<ReturnType<typeof startDemoStack>>['stack'];
let api: ReturnType<typeof apiClient>;
let twilio: FakeTwilio;
let gateway: { id: string; channel: 'sms'; provider: string; webhookUrl: string };

beforeAll(async () => {
  ({ stack, api } = await startDemoStack('webhooks-function-url', { liftRateLimit: true }));
  // Its own status callbacks would come too late to matter: the receipts below are posted by the test.
  twilio = await startFakeTwilio({ accountSid, authToken, callbackDelayMs: 600_000 });
  process.env.ISPNOTIFY_BASE_URL_TWILIO = twilio.baseUrl;
  const created = await api.post('/v1/gateways', { name: 'Twilio', provider: 'twilio', credentials: { accountSid, authToken }, settings: { from: '+15005550006' }, default: true });
  expect(created.status).toBe(201);
  gateway = created.body;
});

afterAll(async () => {
  delete process.env.ISPNOTIFY_BASE_URL_TWILIO;
  await twilio?.close();
  await stack?.stop();
});

/** A message sent through the Twilio gateway, with the SID Twilio gave it. */
async function sentThroughTwilio(mobile: string): Promise<{ id: string; sid: string }> {
  const sent = await api.post('/v1/messages', { mobile, text: 'Receipt through the function URL' });
  expect(sent.status).toBe(202);
  const reply = await waitFor(
    () => api.get(`/v1/messages/${sent.body.id}`),
    (r) => r.body?.status === 'sent',
  );
  return { id: sent.body.id, sid: reply.body.providerMessageId };
}

/**
 * The event a Lambda function URL invokes the function with: payload format 2.0 like the HTTP API's,
 * but routeKey "$default" (or `routeKey: undefined`, as the brief's older shape) and no pathParameters.
 */
function functionUrlEvent(url: URL, body: string, headers: Record<string, string>, routeKey: string | undefined = '$default'): APIGatewayProxyEventV2 {
  const event = {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers: { host: url.host, 'x-forwarded-proto': 'https', 'content-type': 'application/x-www-form-urlencoded', ...headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: url.host.split('.')[0]!,
      domainName: url.host,
      domainPrefix: url.host.split('.')[0]!,
      http: { method: 'POST', path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'TwilioProxy/1.1' },
      requestId: 'function-url-request',
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    // Function URLs base64-encode form bodies.
    body: Buffer.from(body).toString('base64'),
    isBase64Encoded: true,
  };
  if (routeKey === undefined) delete (event as { routeKey?: string }).routeKey;
  return event as unknown as APIGatewayProxyEventV2;
}

async function invoke(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const context = createLambdaContext({ functionName: 'ispnotify-Webhooks', timeoutSeconds: 10 });
  return (await (handler as unknown as (e: unknown, c: unknown) => Promise<APIGatewayProxyStructuredResultV2>)(event, context))!;
}

/** A Twilio status callback for `sid`, signed over `signedUrl` as Twilio signs the URL it posts to. */
function twilioReceipt(sid: string, status: string, signedUrl: string) {
  const params = { AccountSid: accountSid, MessageSid: sid, SmsSid: sid, MessageStatus: status, SmsStatus: status, From: '+15005550006', To: '+8801711550101' };
  return { body: new URLSearchParams(params).toString(), headers: { 'x-twilio-signature': twilioSignature(authToken, signedUrl, params) } };
}

describe('receipts through the Webhooks function URL', () => {
  // Twilio calls each message's own StatusCallback: the gateway's webhook URL naming the message (?m=).
  const functionUrl = (messageId?: string) => new URL(`https://${FUNCTION_URL_HOST}/webhooks/sms/twilio/${gateway.id}${messageId ? `?m=${messageId}` : ''}`);

  it('records a receipt Twilio signed over the function URL it called (routeKey "$default", no pathParameters)', async () => {
    const { id, sid } = await sentThroughTwilio('01711550101');
    const receipt = twilioReceipt(sid, 'delivered', functionUrl(id).href);
    const reply = await invoke(functionUrlEvent(functionUrl(id), receipt.body, receipt.headers));
    expect(reply.statusCode).toBe(200);
    expect(JSON.parse(reply.body!)).toMatchObject({ recorded: 1, unchanged: 0 });
    const message = (await api.get(`/v1/messages/${id}`)).body;
    expect(message.status).toBe('delivered');

    // Without any routeKey the same receipt is routed by rawPath too (and changes nothing the second time).
    const again = await invoke(functionUrlEvent(functionUrl(id), receipt.body, receipt.headers, undefined));
    expect(again.statusCode).toBe(200);
    expect(JSON.parse(again.body!)).toMatchObject({ recorded: 0, unchanged: 1 });
  });

  it('never applies a receipt to another message than the one its provider id went out as (a URL naming a different message)', async () => {
    const first = await sentThroughTwilio('01711550104');
    const other = await sentThroughTwilio('01711550105');
    // A genuine, signed receipt for the first message, posted to a URL that names the other one.
    const receipt = twilioReceipt(first.sid, 'failed', functionUrl(other.id).href);
    const reply = await invoke(functionUrlEvent(functionUrl(other.id), receipt.body, receipt.headers));
    expect(reply.statusCode).toBe(404);
    expect((await api.get(`/v1/messages/${other.id}`)).body.status).toBe('sent');
    expect((await api.get(`/v1/messages/${first.id}`)).body.status).toBe('sent');
  });

  it('refuses a signature over another URL than the one called (the API\'s own webhook route)', async () => {
    const { id, sid } = await sentThroughTwilio('01711550102');
    const receipt = twilioReceipt(sid, 'delivered', webhookUrl(deps().publicBaseUrl, gateway));
    const reply = await invoke(functionUrlEvent(functionUrl(), receipt.body, receipt.headers));
    expect(reply.statusCode).toBe(401);
    expect((await api.get(`/v1/messages/${id}`)).body.status).toBe('sent');
  });

  it('still takes receipts on the API Gateway webhook route, signed over that URL', async () => {
    const { id, sid } = await sentThroughTwilio('01711550103');
    const receipt = twilioReceipt(sid, 'delivered', `${gateway.webhookUrl}?m=${id}`);
    const reply = await fetch(`${gateway.webhookUrl}?m=${id}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...receipt.headers }, body: receipt.body });
    expect(reply.status).toBe(200);
    expect((await api.get(`/v1/messages/${id}`)).body.status).toBe('delivered');
  });

  it('answers 404 problem+json for a path no route has', async () => {
    const reply = await invoke(functionUrlEvent(new URL(`https://${FUNCTION_URL_HOST}/v1/messages`), '', {}));
    expect(reply.statusCode).toBe(404);
    expect(reply.headers?.['content-type']).toBe('application/problem+json');
    expect(JSON.parse(reply.body!).detail).toBe('No route for POST /v1/messages.');
  });
});

describe('WEBHOOK_BASE_URL', () => {
  it('is the public base when unset (the local stack: one server)', () => {
    expect(process.env.WEBHOOK_BASE_URL).toBeUndefined();
    expect(deps().webhookBaseUrl).toBe(deps().publicBaseUrl);
    expect(gateway.webhookUrl).toBe(`${stack.baseUrl}/webhooks/sms/twilio/${gateway.id}`);
  });

  it('is the base of gateways\' webhookUrl when set, and provider callbacks may call either base', async () => {
    process.env.WEBHOOK_BASE_URL = `https://${FUNCTION_URL_HOST}/`;
    resetConfig();
    try {
      expect(deps().webhookBaseUrl).toBe(`https://${FUNCTION_URL_HOST}`);
      expect(webhookUrl(deps().webhookBaseUrl, gateway)).toBe(`https://${FUNCTION_URL_HOST}/webhooks/sms/twilio/${gateway.id}`);
      const shown = await api.get(`/v1/gateways/${gateway.id}`);
      expect(shown.body.webhookUrl).toBe(`https://${FUNCTION_URL_HOST}/webhooks/sms/twilio/${gateway.id}`);

      const called: string[] = [];
      const fetch = (async (url: string | URL | Request) => {
        called.push(String(url));
        return new Response('{}', { status: 200 });
      }) as typeof globalThis.fetch;
      const d = { ...deps(), fetch };
      const task = (url: string) => ({ kind: 'post' as const, url, headers: {}, body: '{}' });
      await runProviderCallback(d, task(`https://${FUNCTION_URL_HOST}/webhooks/sms/sandbox/${gateway.id}`));
      await runProviderCallback(d, task(`${d.publicBaseUrl}/webhooks/sms/sandbox/${gateway.id}`));
      await expect(runProviderCallback(d, task(`https://elsewhere.example.net/webhooks/sms/sandbox/${gateway.id}`))).rejects.toThrow(/only this deployment's webhooks/);
      expect(called).toHaveLength(2);
    } finally {
      delete process.env.WEBHOOK_BASE_URL;
      resetConfig();
    }
  });
});
