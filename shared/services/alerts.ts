/**
 * Alerts to the ISP's own team on Telegram: a chat (and forum topic) per purpose (`emergency`,
 * `customer-support`, `software-support`, any other name), `POST /v1/alerts` to send one. The same
 * alert repeated within a minute is collapsed into the first (counted on it), so an outage does not
 * flood the group. Telegram sends no delivery receipts: `sent` is final.
 */
import { createHash } from 'node:crypto';
import { conflict, invalid, notFound } from '../domain/errors.js';
import { escapeHtml } from '../domain/html.js';
import { newId } from '../domain/ids.js';
import type { Message, Operator } from '../domain/records.js';
import type { AlertInputT } from '../domain/schemas.js';
import type { Deps } from '../deps.js';
import type { AlertRoute, IdempotencyKey } from '../ports.js';
import { createMessage } from './messages.js';

type D = Pick<Deps, 'customers' | 'templates' | 'gateways' | 'messages' | 'counters' | 'queue' | 'clock' | 'cipher' | 'suppressions' | 'billing' | 'alertRoutes'>;

export async function putAlertRoute(d: D, operator: Operator, purpose: string, input: { chatId: string; threadId?: number; gatewayId?: string }) {
  if (input.gatewayId) {
    const gateway = await d.gateways.get(input.gatewayId);
    if (!gateway || gateway.operatorId !== operator.id || gateway.channel !== 'telegram') {
      throw invalid('The gateway is not one of this operator\'s Telegram gateways.', [{ field: 'gatewayId', message: 'must be a Telegram gateway of this operator' }]);
    }
  }
  const existed = (await d.alertRoutes.get(operator.id, purpose)) !== undefined;
  const route: AlertRoute = { purpose, chatId: input.chatId, ...(input.threadId !== undefined ? { threadId: input.threadId } : {}), ...(input.gatewayId ? { gatewayId: input.gatewayId } : {}), updatedAt: d.clock.now().toISOString() };
  await d.alertRoutes.put(operator.id, route);
  return { route, created: !existed };
}

export async function getAlertRoute(d: Pick<D, 'alertRoutes'>, operator: Operator, purpose: string) {
  const route = await d.alertRoutes.get(operator.id, purpose);
  if (!route) throw notFound(`Alert route "${purpose}"`);
  return route;
}

const SEVERITY_MARK: Record<AlertInputT['severity'], string> = { info: 'ℹ️', warning: '⚠️', critical: '🚨' };

/**
 * Sends an alert to its purpose's chat, or counts it on the same alert sent less than a minute ago.
 * With an idempotency key (an event's alert) it is made once by the key, not collapsed: it names its event.
 */
export async function sendAlert(d: D, operator: Operator, input: AlertInputT, options: { idempotency?: IdempotencyKey } = {}): Promise<{ message: Message; collapsed: boolean; repeats?: number }> {
  const route = await d.alertRoutes.get(operator.id, input.purpose);
  if (!route) {
    throw conflict(`No chat is set for alerts of purpose "${input.purpose}"; set one with PUT /v1/alert-routes/${input.purpose}.`);
  }
  const now = d.clock.now();
  const messageId = newId(now);
  const fingerprint = createHash('sha256').update(`${input.severity}\n${input.text}`).digest('base64url').slice(0, 32);
  const seen = options.idempotency ? ({ first: true } as const) : await d.alertRoutes.collapse(operator.id, input.purpose, fingerprint, now, messageId);
  if (!seen.first) {
    const first = await d.messages.get(operator.id, seen.messageId);
    if (first) {
      await d.messages.noteRepeats(operator.id, first.id, seen.count - 1);
      return { message: { ...first, alert: { ...first.alert!, repeats: seen.count - 1 } }, collapsed: true, repeats: seen.count - 1 };
    }
  }
  const html = `${SEVERITY_MARK[input.severity]} <b>${escapeHtml(input.severity.toUpperCase())}</b> · ${escapeHtml(input.purpose)}\n${escapeHtml(input.text)}`;
  const { message } = await createMessage(
    d,
    operator,
    {
      id: messageId,
      channel: 'telegram',
      telegram: { chatId: route.chatId, ...(route.threadId !== undefined ? { threadId: route.threadId } : {}) },
      ...(route.gatewayId ? { gatewayId: route.gatewayId } : {}),
      content: { text: html },
      kind: 'alert',
      alert: { purpose: input.purpose, severity: input.severity },
      lane: 'priority',
      fields: { recipient: 'purpose', content: 'text' },
    },
    // The team's own chat: not a message to a customer, so not counted in messagesPerDay.
    { quota: false, ...(options.idempotency ? { idempotency: options.idempotency } : {}) },
  );
  return { message, collapsed: false };
}
