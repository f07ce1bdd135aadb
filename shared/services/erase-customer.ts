/**
 * DELETE /v1/customers/{id}: erases a customer's personal data so an ISP can honour an erasure
 * request. The customer item is deleted; each of its messages keeps what billing and statistics need
 * (status, status history with the providers' reasons, encoding, characters, segments, dates) while
 * `to` is masked (maskPhoneNumber), `text` becomes "[erased]" and `erasedAt` is set. A message still
 * queued is failed first, so it is never sent.
 *
 * Order: messages, then the customer (with an erasure record, in one transaction), then the messages
 * again. Cut off in the first pass, the customer is still there and a retry does it all again; the
 * second pass catches a message created while the first ran. Idempotent: a repeated DELETE answers
 * 204 as well (the erasure record says the customer was erased) and looks again for messages left
 * to erase; an id that was never a customer is a 404.
 *
 * Not covered: messages sent to a bare `mobile` (no customerId) are not linked to the customer.
 */
import { ERASED_TEXT, maskPhoneNumber } from '../domain/erasure.js';
import { notFound } from '../domain/errors.js';
import type { Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';

type D = Pick<Deps, 'customers' | 'messages' | 'erasure' | 'clock'>;

export interface ErasureResult {
  /** Messages erased by this request (0 on a repeat that found nothing left). */
  messagesErased: number;
}

export async function eraseCustomer(d: D, operator: Operator, customerId: string): Promise<ErasureResult> {
  const customer = await d.customers.get(operator.id, customerId);
  if (!customer && !(await d.erasure.erasedAt(operator.id, customerId))) throw notFound(`Customer "${customerId}"`);
  let messagesErased = await eraseMessages(d, operator, customerId);
  if (customer) {
    await d.erasure.deleteCustomer(operator.id, customerId, d.clock.now().toISOString());
    messagesErased += await eraseMessages(d, operator, customerId);
  }
  return { messagesErased };
}

async function eraseMessages(d: D, operator: Operator, customerId: string): Promise<number> {
  let erased = 0;
  for await (const ids of d.erasure.customerMessageIds(operator.id, customerId)) {
    const done = await Promise.all(ids.map((id) => eraseMessage(d, operator, id)));
    erased += done.filter(Boolean).length;
  }
  return erased;
}

async function eraseMessage(d: D, operator: Operator, messageId: string): Promise<boolean> {
  const message = await d.messages.get(operator.id, messageId);
  if (!message || message.erasedAt) return false;
  const at = d.clock.now().toISOString();
  if (message.status === 'queued') {
    // Failed before it is masked: the sender never sends to a masked number (a send already under way may still go out).
    await d.messages.transition(operator.id, messageId, { status: 'failed', at, reason: 'Not sent: the customer\'s personal data was erased.' });
  }
  return d.erasure.eraseMessage(operator.id, messageId, { to: maskPhoneNumber(message.to), text: ERASED_TEXT, erasedAt: at });
}
