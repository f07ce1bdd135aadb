import { DomainError, invalid, notFound, unauthorized } from '../domain/errors.js';
import type { Deps } from '../deps.js';
import { isChannel } from '../adapters/providers/registry.js';
import type { HandshakeReply, WebhookRequest } from '../ports.js';
import { recordStatus } from './fallback.js';
import { handleTeamMessage, recordInbound } from './inbound.js';
import { openGateway } from './gateways.js';
import { CALLBACK_MESSAGE_PARAM, callsBackPerMessage } from './record-outcome.js';
import type { Gateway, StatusChange } from '../domain/records.js';

type D = Pick<Deps, 'messages' | 'gateways' | 'cipher' | 'clock' | 'fetch' | 'operators' | 'customers' | 'templates' | 'counters' | 'queue' | 'suppressions' | 'billing' | 'alertRoutes'>;

/**
 * A provider's delivery receipt: verified with the gateway's own secret, then each status is
 * recorded forward-only (a late or repeated receipt changes nothing).
 */
/** Gateway ids are ULIDs; provider ids are short names. Anything else is refused before storage is asked. */
const GATEWAY_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const PROVIDER_ID = /^[a-z0-9-]{1,40}$/;
/** Provider message ids are short (Twilio: 34); a longer one cannot be ours and must not reach a key. */
const MAX_PROVIDER_MESSAGE_ID = 200;

/** The gateway a webhook URL names, checked against its channel and provider, before anything else is read. */
async function webhookGateway(d: Pick<D, 'gateways' | 'cipher'>, channel: string, providerId: string, gatewayId: string) {
  const named = `Gateway "${gatewayId.slice(0, 40)}${gatewayId.length > 40 ? '…' : ''}" for ${channel.slice(0, 20)}/${providerId.slice(0, 40)}`;
  if (!GATEWAY_ID.test(gatewayId) || !PROVIDER_ID.test(providerId) || !isChannel(channel)) throw notFound(named);
  const opened = await openGateway(d, gatewayId);
  if (!opened || opened.gateway.channel !== channel || opened.gateway.provider !== providerId) throw notFound(named);
  return opened;
}

/** A provider's GET verification handshake; providers without one answer 404. */
export async function answerHandshake(d: Pick<D, 'gateways' | 'cipher'>, channel: string, providerId: string, gatewayId: string, request: WebhookRequest): Promise<HandshakeReply> {
  const opened = await webhookGateway(d, channel, providerId, gatewayId);
  const provider = opened.provider;
  if (provider.channel !== 'whatsapp' || !provider.handshake) throw notFound(`A verification handshake for ${channel}/${providerId} (this provider has none)`);
  return provider.handshake(request, { credentials: opened.credentials, settings: opened.settings });
}

export async function recordReceipt(d: D, channel: string, providerId: string, gatewayId: string, request: WebhookRequest) {
  const opened = await webhookGateway(d, channel, providerId, gatewayId);
  // SNS (SES events) first asks the endpoint to confirm its subscription; the provider checks and confirms it.
  if (opened.provider.channel === 'email' && opened.provider.confirmSubscription && request.headers['x-amz-sns-message-type'] === 'SubscriptionConfirmation') {
    // With the gateway's settings: only its own topic (settings.snsTopicArn) is confirmed.
    if (!(await opened.provider.confirmSubscription(request, { fetch: d.fetch, clock: d.clock }, { settings: opened.settings }))) throw unauthorized('The subscription confirmation is not signed by SNS for this gateway.');
    return { recorded: 0, unchanged: 0, inbound: 0, confirmed: true };
  }
  if (!(await opened.provider.verifySignature(request, { credentials: opened.credentials, settings: opened.settings }, { fetch: d.fetch, clock: d.clock }))) {
    throw unauthorized('The webhook signature does not match this gateway\'s secret.');
  }
  let updates;
  try {
    updates = [
      ...opened.provider.parseWebhook(request, { settings: opened.settings }),
      ...(opened.provider.channel === 'sms' && opened.provider.parseInbound ? opened.provider.parseInbound(request) : []),
    ];
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw invalid(`The ${providerId} receipt could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  let recorded = 0;
  let unchanged = 0;
  let inbound = 0;
  for (const update of updates) {
    if (update.providerMessageId.length > MAX_PROVIDER_MESSAGE_ID) throw invalid('The receipt\'s message id is too long to be one of ours.');
    if ('kind' in update) {
      if (update.kind === 'chat') {
        // The team writing in a Telegram chat: see services/inbound.ts.
        if (await handleTeamMessage(d, opened.gateway, update)) inbound++;
        else unchanged++;
        continue;
      }
      if (await recordInbound(d, opened.gateway, update)) inbound++;
      else unchanged++;
      continue;
    }
    const change = { status: update.status, at: d.clock.now().toISOString(), reason: update.reason, providerStatus: update.providerStatus };
    // The callback URL named our message (callbackPerMessage): no pointer to read, the provider id is checked on the message itself.
    const named = callsBackPerMessage(opened.provider) ? namedMessage(request.url) : undefined;
    const outcome = named ? await recordNamedReceipt(d, opened.gateway, named, update.providerMessageId, change) : undefined;
    let target: { operatorId: string; messageId: string } | undefined;
    let changed: boolean;
    if (outcome) {
      target = { operatorId: opened.gateway.operatorId, messageId: named! };
      changed = outcome === 'changed';
    } else {
      target = await d.messages.findByProviderId(gatewayId, update.providerMessageId);
      // Not (yet) known: answer 404 so providers that retry receipts try again shortly.
      if (!target) throw notFound(`Message with provider id "${update.providerMessageId}"`);
      changed = await recordStatus(d, { operatorId: target.operatorId, id: target.messageId, channel: opened.gateway.channel }, change);
    }
    // A hard bounce or a complaint: later email to the address is refused, with the reason.
    const suppress = 'suppress' in update ? (update.suppress as { address: string; reason: string } | undefined) : undefined;
    if (suppress) {
      await d.suppressions.put(target.operatorId, {
        kind: 'email',
        address: suppress.address.toLowerCase(),
        reason: suppress.reason,
        scope: 'all',
        createdAt: d.clock.now().toISOString(),
      });
    }
    if (changed) recorded++;
    else {
      // Out of order (delivered after read, failed after delivered) or repeated: the status stays, the
      // history keeps it. A provider's own "sent" adds nothing to the sent we recorded from its reply.
      if (change.status !== 'sent') await d.messages.noteLateReceipt(target.operatorId, target.messageId, change);
      unchanged++;
    }
  }
  return { recorded, unchanged, inbound };
}

/** Our message id from a status callback URL (`?m=<ULID>`), or undefined when it names none (a receipt sent to the gateway's plain URL). */
function namedMessage(url: string): string | undefined {
  let value: string | null;
  try {
    value = new URL(url).searchParams.get(CALLBACK_MESSAGE_PARAM);
  } catch {
    return undefined;
  }
  return value !== null && /^[0-9A-HJKMNP-TV-Z]{26}$/.test(value) ? value : undefined;
}

/**
 * A receipt whose URL named the message: recorded on it if it went out through this gateway with
 * this provider id. undefined when it did not (a message sent before its receipts named it, or not
 * recorded as sent yet): the provider-id pointer is asked then, as for any receipt.
 */
async function recordNamedReceipt(d: D, gateway: Gateway, messageId: string, providerMessageId: string, change: StatusChange): Promise<'changed' | 'unchanged' | undefined> {
  try {
    const changed = await recordStatus(d, { operatorId: gateway.operatorId, id: messageId, channel: gateway.channel }, change, {}, { receiptFor: { gatewayId: gateway.id, providerMessageId } });
    return changed ? 'changed' : 'unchanged';
  } catch (error) {
    if (error instanceof DomainError && error.kind === 'NotFound') return undefined;
    throw error;
  }
}
