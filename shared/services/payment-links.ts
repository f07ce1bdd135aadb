/**
 * Personal payment links: `<base>/p/<token>` for one customer's bill, made when a payment-link
 * broadcast renders a message, and opened by GET /p/{token}, which counts the click and sends the
 * customer to the operator's payment page.
 */
import { paymentLinkId, paymentTokenExpiry, readPaymentToken, signPaymentToken, verifyPaymentToken } from '../domain/payment-token.js';
import { renderPaymentUrl } from '../domain/payment-url.js';
import type { Channel, PaymentLink } from '../domain/records.js';
import type { Deps } from '../deps.js';

export interface PaymentLinkInput {
  operatorId: string;
  customerId: string;
  billId: string;
  broadcastId?: string;
  messageId: string;
  channel: Channel;
  /** Rounded up to the hour the token can carry; the link stores the rounded value. */
  expiresAt: Date;
  createdAt: string;
}

/** A small HTML page instead of the redirect; never says more than the customer already knows. */
export interface PaymentLinkPage {
  status: number;
  title: string;
  text: string;
}

export type PaymentLinkOutcome = { redirect: string } | PaymentLinkPage;

/** One wording for a malformed, altered or unknown token, so the page tells an attacker nothing. */
const notValid = (status: 400 | 404): PaymentLinkPage => ({
  status,
  title: 'Link not valid',
  text: 'This payment link is not valid. Please use the link in the message from your internet provider, or contact them.',
});
const EXPIRED: PaymentLinkPage = { status: 410, title: 'Link expired', text: 'This payment link has expired. Please contact your internet provider for a new one.' };
const PAID: PaymentLinkPage = { status: 200, title: 'Already paid', text: 'This bill is already paid, thank you.' };
const VOID: PaymentLinkPage = { status: 200, title: 'Nothing to pay', text: 'This bill has been cancelled, so there is nothing to pay, thank you.' };
const NO_PAYMENT_PAGE: PaymentLinkPage = {
  status: 409,
  title: 'Online payment not available',
  text: 'Your internet provider has not set up an online payment page yet. Please contact them to pay this bill.',
};

/** The link record and its URL; deterministic for the same input (a redelivered page makes the same link). Not stored here. */
export async function makePaymentLink(d: Pick<Deps, 'paymentLinkKey' | 'paymentLinkBaseUrl'>, input: PaymentLinkInput): Promise<{ link: PaymentLink; url: string }> {
  const key = await d.paymentLinkKey();
  const id = paymentLinkId(key, input.operatorId, input.messageId);
  const expiresAt = paymentTokenExpiry(input.expiresAt);
  const token = signPaymentToken(key, { linkId: id, expiresAt, operatorId: input.operatorId, customerId: input.customerId, billId: input.billId });
  const link: PaymentLink = {
    id,
    operatorId: input.operatorId,
    customerId: input.customerId,
    billId: input.billId,
    ...(input.broadcastId ? { broadcastId: input.broadcastId } : {}),
    messageId: input.messageId,
    channel: input.channel,
    expiresAt: expiresAt.toISOString(),
    createdAt: input.createdAt,
  };
  return { link, url: `${d.paymentLinkBaseUrl}/p/${token}` };
}

type OpenDeps = Pick<Deps, 'paymentLinks' | 'paymentLinkKey' | 'operators' | 'customers' | 'customerBills' | 'clock'>;

/**
 * What GET /p/{token} answers. The token is checked against the stored link's operator, customer
 * and bill before anything is read for it; a valid, unexpired link's click is counted before the
 * redirect (and also when the bill turns out to be paid: the customer did open it).
 */
export async function openPaymentLink(d: OpenDeps, token: string, userAgent: string | undefined): Promise<PaymentLinkOutcome> {
  const claimed = readPaymentToken(token);
  if (claimed === 'malformed') return notValid(400);
  const link = await d.paymentLinks.get(claimed.linkId);
  if (!link) return notValid(404);
  const now = d.clock.now();
  const check = verifyPaymentToken(await d.paymentLinkKey(), token, link, now);
  if (check === 'expired') return EXPIRED;
  if (check !== 'ok') return notValid(404);

  const [click, operator, bill, customer] = await Promise.all([
    d.paymentLinks.recordClick(link.id, now.toISOString(), userAgent),
    d.operators.get(link.operatorId),
    d.customerBills.get(link.operatorId, link.billId),
    d.customers.get(link.operatorId, link.customerId),
  ]);
  // A bill moved to another customer, or an erased customer: never show someone else's bill.
  if (!click || !operator || !bill || !customer || bill.customerId !== link.customerId) return notValid(404);
  if (bill.status === 'paid') return PAID;
  if (bill.status === 'void') return VOID;
  const url = operator.paymentUrlTemplate ? renderPaymentUrl(operator.paymentUrlTemplate, customer, bill) : undefined;
  return url ? { redirect: url } : NO_PAYMENT_PAGE;
}
