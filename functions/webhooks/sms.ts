import { deps } from '../../shared/deps.js';
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
      const result = await recordReceipt(d, 'sms', params.provider!, params.gatewayId!, { method: 'POST', url, headers: event.headers as Record<string, string>, rawBody });
      return json(200, result);
    },
  },
  { public: true, rawBody: true },
);
