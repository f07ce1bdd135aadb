import { deps } from '../../shared/deps.js';
import { openPaymentLink } from '../../shared/services/payment-links.js';
import { api } from './_middleware.js';
import { paymentLinkReply } from './payment-link-page.js';

/** A customer's payment link, opened from an SMS or WhatsApp message: no API key, the token is the credential. */
export const handler = api(
  {
    'GET /p/{token}': async ({ params, header }) => paymentLinkReply(await openPaymentLink(deps(), params.token ?? '', header('user-agent'))),
  },
  { public: true },
);
