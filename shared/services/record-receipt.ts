import { DomainError, invalid, notFound, unauthorized } from '../domain/errors.js';
import type { Deps } from '../deps.js';
import type { HandshakeReply, WebhookRequest } from '../ports.js';
import { openGateway } from './gateways.js';

type D = Pick<Deps, 'messages' | 'gateways' | 'cipher' | 'clock' | 'fetch'>;

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
  // Only the SMS channel has gateways yet; WhatsApp's adapters are wired next (issue 6).
  if (!GATEWAY_ID.test(gatewayId) || !PROVIDER_ID.test(providerId) || channel !== 'sms') throw notFound(named);
  const opened = await openGateway(d, gatewayId);
  if (!opened || opened.gateway.channel !== channel || opened.gateway.provider !== providerId) throw notFound(named);
  return opened;
}

/** A provider's GET verification handshake; providers without one answer 404. */
export async function answerHandshake(d: Pick<D, 'gateways' | 'cipher'>, channel: string, providerId: string, gatewayId: string, request: WebhookRequest): Promise<HandshakeReply> {
  const opened = await webhookGateway(d, channel, providerId, gatewayId);
  const provider = opened.provider as { handshake?: (r: WebhookRequest, g: { credentials: unknown; settings: unknown }) => HandshakeReply };
  if (!provider.handshake) throw notFound(`A verification handshake for ${channel}/${providerId} (this provider has none)`);
  return provider.handshake(request, { credentials: opened.credentials, settings: opened.settings });
}

export async function recordReceipt(d: D, channel: string, providerId: string, gatewayId: string, request: WebhookRequest) {
  const opened = await webhookGateway(d, channel, providerId, gatewayId);
  if (!(await opened.provider.verifySignature(request, { credentials: opened.credentials, settings: opened.settings }, { fetch: d.fetch, clock: d.clock }))) {
    throw unauthorized('The webhook signature does not match this gateway\'s secret.');
  }
  let updates;
  try {
    updates = opened.provider.parseWebhook(request, { settings: opened.settings });
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw invalid(`The ${providerId} receipt could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  let recorded = 0;
  let unchanged = 0;
  for (const update of updates) {
    if (update.providerMessageId.length > MAX_PROVIDER_MESSAGE_ID) throw invalid('The receipt\'s message id is too long to be one of ours.');
    const target = await d.messages.findByProviderId(gatewayId, update.providerMessageId);
    // Not (yet) known: answer 404 so providers that retry receipts try again shortly.
    if (!target) throw notFound(`Message with provider id "${update.providerMessageId}"`);
    const changed = await d.messages.transition(target.operatorId, target.messageId, {
      status: update.status,
      at: d.clock.now().toISOString(),
      reason: update.reason,
      providerStatus: update.providerStatus,
    });
    if (changed) recorded++;
    else unchanged++;
  }
  return { recorded, unchanged };
}
