import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { deps } from '../../shared/deps.js';
import { DomainError } from '../../shared/domain/errors.js';
import { metrics } from '../../shared/metrics.js';
import { recordReceipt } from '../../shared/services/record-receipt.js';
import { api, json } from '../api/_middleware.js';

/** Provider delivery receipts: no API key; each gateway's own secret verifies the signature. */
export const handler = api(
  {
    'POST /webhooks/sms/{provider}/{gatewayId}': async ({ event, params }) => {
      const d = deps();
      const body = event.body ?? '';
      const rawBody = event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
      const url = `${d.publicBaseUrl}${event.rawPath}${event.rawQueryString ? `?${event.rawQueryString}` : ''}`;
      try {
        const result = await recordReceipt(d, 'sms', params.provider!, params.gatewayId!, { method: 'POST', url, headers: event.headers as Record<string, string>, rawBody });
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
  },
  { public: true, rawBody: true },
);
