import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { deps } from '../../shared/deps.js';
import { DomainError } from '../../shared/domain/errors.js';
import { metrics } from '../../shared/metrics.js';
import { answerHandshake, recordReceipt } from '../../shared/services/record-receipt.js';
import { receivePayment } from '../../shared/services/bills.js';
import type { WebhookRequest } from '../../shared/ports.js';
import { api, json, type RouteRequest } from '../api/_middleware.js';

/**
 * The request as the provider sent it: raw body (signatures cover the bytes) and the URL it called, which
 * some signatures cover too: the function URL's host when it came that way (the callback URLs senders give
 * out, WEBHOOK_BASE_URL), else the API's public base (the routes gateways were first configured with).
 */
function webhookRequest({ event, viaFunctionUrl }: RouteRequest, publicBaseUrl: string): WebhookRequest {
  const body = event.body ?? '';
  const base = viaFunctionUrl ? `https://${event.requestContext.domainName}` : publicBaseUrl;
  return {
    method: event.requestContext.http.method,
    url: `${base}${event.rawPath}${event.rawQueryString ? `?${event.rawQueryString}` : ''}`,
    headers: event.headers as Record<string, string>,
    rawBody: event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body,
  };
}

/**
 * One entry point for every channel's and provider's webhooks: no API key; each gateway's own secret
 * verifies the signature (POST), and providers that verify a webhook first answer their GET handshake.
 */
export const handler = api(
  {
    'POST /webhooks/{channel}/{provider}/{gatewayId}': async (request) => {
      const d = deps();
      const { channel, provider, gatewayId } = request.params;
      try {
        const result = await recordReceipt(d, channel!, provider!, gatewayId!, webhookRequest(request, d.publicBaseUrl));
        metrics.addMetric('SmsReceiptsRecorded', MetricUnit.Count, result.recorded);
        metrics.addMetric('SmsReceiptsStale', MetricUnit.Count, result.unchanged);
        return json(200, result);
      } catch (error) {
        // Forged or misrouted receipts are worth an alarm of their own.
        if (error instanceof DomainError && error.kind === 'Unauthorized') metrics.addMetric('SmsReceiptsForged', MetricUnit.Count, 1);
        throw error;
      } finally {
        metrics.publishStoredMetrics();
      }
    },
    // The platform's payment provider: a bill paid or a top-up, credited once per payment.
    'POST /webhooks/payments/{provider}': async (request) => {
      const d = deps();
      const result = await receivePayment(d, request.params.provider!, webhookRequest(request, d.publicBaseUrl));
      return json(200, result);
    },
    'GET /webhooks/{channel}/{provider}/{gatewayId}': async (request) => {
      const d = deps();
      const { channel, provider, gatewayId } = request.params;
      const reply = await answerHandshake(d, channel!, provider!, gatewayId!, webhookRequest(request, d.publicBaseUrl));
      return { statusCode: reply.status, headers: { 'content-type': reply.contentType }, body: reply.body };
    },
  },
  // functionUrl: providers call this function's Lambda function URL too (shared/catalog.ts), routed by rawPath.
  { public: true, rawBody: true, functionUrl: true },
);
