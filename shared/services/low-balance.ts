/**
 * The low-balance warning, sent once when the available prepaid balance crosses the operator's
 * threshold (the flag on the balance makes it once; a credit above the threshold clears it): to
 * the operator's `billing` alert chat (else its system alert purpose) on Telegram, and by email to
 * its billing contact when it has an email gateway.
 */
import type { Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';
import { escapeHtml } from '../domain/html.js';
import { logger } from '../logger.js';
import { sendAlert } from './alerts.js';
import { createMessage } from './messages.js';

type D = Pick<Deps, 'customers' | 'templates' | 'gateways' | 'messages' | 'counters' | 'queue' | 'clock' | 'cipher' | 'suppressions' | 'billing' | 'alertRoutes'>;

const money = (minor: number, currency: string) => `${currency} ${(minor / 100).toFixed(2)}`;

export async function warnLowBalance(d: D, operator: Operator, available: number, currency: string): Promise<void> {
  const text = `The prepaid SMS balance of ${operator.name} is low: ${money(available, currency)} available (warning below ${money(operator.lowBalanceThreshold ?? 0, currency)}). Top up to keep messages going.`;
  const purpose = (await d.alertRoutes.get(operator.id, 'billing')) ? 'billing' : (operator.systemAlertPurpose ?? 'emergency');
  if (await d.alertRoutes.get(operator.id, purpose)) {
    await sendAlert(d, operator, { purpose, severity: 'warning', text }).catch((error: unknown) => logger.warn('Could not send the low-balance alert', { error }));
  }
  if (operator.billingEmail) {
    await createMessage(
      d,
      operator,
      {
        channel: 'email',
        email: operator.billingEmail,
        content: { text, email: { subject: `Low SMS balance: ${money(available, currency)} left`, html: `<p>${escapeHtml(text)}</p>`, text } },
        lane: 'priority',
        fields: { recipient: 'billingEmail', content: 'text' },
      },
      // A notice to the operator itself, not a customer message.
      { quota: false },
    ).catch((error: unknown) => logger.warn('Could not email the low-balance warning', { error, operatorId: operator.id }));
  }
}
