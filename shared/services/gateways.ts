import { randomBytes } from 'node:crypto';
import { providerFor, providersByChannel } from '../adapters/providers/registry.js';
import { assertDestination } from '../domain/destination.js';
import { conflict, GatewayFault, invalid, notFound, ProviderRejected, ProviderUnavailable } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { normalizeMobile } from '../domain/phone.js';
import type { Channel, Gateway, Operator } from '../domain/records.js';
import type { GatewayInputT, GatewayTestT } from '../domain/schemas.js';
import { assertWithinMaxSegments } from '../domain/segments.js';
import { assertSendableText } from '../domain/text.js';
import { safeReason } from './error-text.js';
import type { Deps } from '../deps.js';
import type { ChannelProvider, ProviderContext } from '../ports.js';
import { zodFields } from '../domain/zod-fields.js';
import { checkWahaGateway } from '../adapters/providers/whatsapp/waha.js';
import { checkSmtpGateway, type SmtpSettings } from '../adapters/providers/email/smtp.js';
import { applyPreset, checkHttpGateway } from './presets.js';
import { sendThrough } from './provider-send.js';

type D = Pick<Deps, 'gateways' | 'operators' | 'circuits' | 'cipher' | 'clock' | 'webhookBaseUrl'>;

/** The encryption context binds sealed credentials to their gateway and operator. */
export const credentialsContext = (gateway: Pick<Gateway, 'id' | 'operatorId'>) => ({ gatewayId: gateway.id, operatorId: gateway.operatorId });

/** Where a gateway's provider posts receipts; `webhookBaseUrl` is deps().webhookBaseUrl (on AWS the webhooks' function URL). */
export function webhookUrl(webhookBaseUrl: string, gateway: Pick<Gateway, 'id' | 'channel' | 'provider'>): string {
  return `${webhookBaseUrl}/webhooks/${gateway.channel}/${gateway.provider}/${gateway.id}`;
}

function knownProvider(channel: Channel, id: string): ChannelProvider {
  const provider = providerFor(channel, id);
  if (!provider) {
    throw invalid(`Unknown ${channel} provider "${id}".`, [
      { field: 'provider', message: `must be one of: ${Object.keys(providersByChannel[channel]).join(', ')}` },
    ]);
  }
  return provider;
}

/** The operator field that names a channel's default gateway (first among gateways of equal priority). */
export const defaultGatewayField = (channel: Channel) => DEFAULT_GATEWAY_FIELDS[channel];
const DEFAULT_GATEWAY_FIELDS = {
  sms: 'smsGatewayId',
  whatsapp: 'whatsappGatewayId',
  email: 'emailGatewayId',
  telegram: 'telegramGatewayId',
} as const satisfies Record<Channel, keyof Operator>;

/**
 * Secrets we make for the operator rather than ask for: Meta's webhook verify token is any string the
 * operator types into Meta's dashboard, so it is generated, sealed, and shown once with the webhook URL.
 */
const GENERATED_SECRETS: Readonly<Record<string, readonly string[]>> = { 'whatsapp/meta': ['verifyToken'] };

function parseWith<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: any } }, value: unknown, field: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalid(`The gateway's ${field} are not valid for this provider.`, zodFields(parsed.error, field));
  return parsed.data;
}

/** Creates (no id) or replaces (id) a gateway. Credentials may be omitted on replace to keep the sealed ones. */
/** The API's input; callers in code may leave out what has a default there. */
type SaveGatewayInput = Omit<GatewayInputT, 'enabled' | 'priority'> & Partial<Pick<GatewayInputT, 'enabled' | 'priority'>>;

export async function saveGateway(d: D, operator: Operator, given: SaveGatewayInput, id?: string) {
  // A preset (provider http) supplies the settings but the sender.
  const input = applyPreset(given);
  const provider = knownProvider(input.channel, input.provider);
  const settings = parseWith(provider.settings, input.settings, 'settings');
  // A tenant's URL: checked by the outbound guard now (and again on every send).
  if (provider.channel === 'sms' && provider.id === 'http') await checkHttpGateway(settings, input.credentials);
  if (provider.channel === 'whatsapp' && provider.id === 'waha') await checkWahaGateway(settings);
  if (provider.channel === 'email' && provider.id === 'smtp') await checkSmtpGateway(settings as SmtpSettings);
  const existing = id ? await d.gateways.get(id) : undefined;
  if (id && (!existing || existing.operatorId !== operator.id)) throw notFound(`Gateway "${id}"`);
  if (existing && existing.channel !== input.channel) {
    throw invalid('A gateway\'s channel cannot change; add a gateway for the other channel.', [{ field: 'channel', message: `must stay "${existing.channel}"` }]);
  }
  if (existing && existing.provider !== input.provider && input.credentials === undefined) {
    throw invalid('Changing the provider needs the new provider\'s credentials.', [{ field: 'credentials', message: 'is required when the provider changes' }]);
  }
  if (!existing && input.credentials === undefined) {
    throw invalid('A new gateway needs its provider\'s credentials.', [{ field: 'credentials', message: 'is required' }]);
  }
  const now = d.clock.now().toISOString();
  const gatewayId = existing?.id ?? newId(d.clock.now());
  let sealedCredentials = existing?.sealedCredentials ?? '';
  let credentialFields = existing?.credentialFields ?? [];
  const generated: Record<string, string> = {};
  if (input.credentials !== undefined) {
    const given = { ...input.credentials };
    const generatedFields = GENERATED_SECRETS[`${provider.channel}/${provider.id}`] ?? [];
    // New credentials for the same provider keep the secret made before (Meta's dashboard has it).
    const kept =
      existing && existing.provider === provider.id && generatedFields.some((field) => existing.credentialFields.includes(field))
        ? (JSON.parse(await d.cipher.open(existing.sealedCredentials, credentialsContext(existing))) as Record<string, unknown>)
        : {};
    for (const field of generatedFields) {
      if (given[field] !== undefined) continue;
      if (typeof kept[field] === 'string') given[field] = kept[field];
      else given[field] = generated[field] = randomBytes(24).toString('base64url');
    }
    const credentials = parseWith(provider.credentials, given, 'credentials') as Record<string, unknown>;
    sealedCredentials = await d.cipher.seal(JSON.stringify(credentials), credentialsContext({ id: gatewayId, operatorId: operator.id }));
    credentialFields = Object.keys(credentials).filter((k) => credentials[k] !== undefined);
  }
  const gateway: Gateway = {
    id: gatewayId,
    operatorId: operator.id,
    channel: input.channel,
    provider: provider.id,
    name: input.name,
    settings: settings as Record<string, unknown>,
    sealedCredentials,
    credentialFields,
    enabled: input.enabled ?? true,
    priority: input.priority ?? 1,
    ...(input.maxPerSecond !== undefined ? { maxPerSecond: input.maxPerSecond } : {}),
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  await d.gateways.put(gateway);
  const field = defaultGatewayField(gateway.channel);
  let defaultGatewayId = operator[field];
  if (input.default || !operator[field]) {
    defaultGatewayId = gateway.id;
    // Only this field: the operator record this request loaded may be stale (a settings PATCH in between).
    const updated = await d.operators.update(operator.id, { [field]: gateway.id, updatedAt: now });
    if (!updated) throw notFound(`Operator "${operator.id}"`);
  }
  const view = gatewayView(d.webhookBaseUrl, gateway, defaultGatewayId);
  // Shown once: give it to the provider with the webhook URL; it is never returned again.
  return { view: Object.keys(generated).length > 0 ? { ...view, generatedCredentials: generated } : view, created: !existing };
}

export async function getGateway(d: D, operator: Operator, id: string) {
  const gateway = await ownGateway(d, operator, id);
  const { open, slowed } = await d.circuits.state([gateway.id], d.clock.now().toISOString());
  return gatewayView(d.webhookBaseUrl, gateway, operator[defaultGatewayField(gateway.channel)], open.get(gateway.id), slowed.get(gateway.id));
}

export async function listGateways(d: D, operator: Operator) {
  const gateways = await d.gateways.list(operator.id);
  const { open, slowed } = await d.circuits.state(gateways.map((g) => g.id), d.clock.now().toISOString());
  return gateways.map((g) => gatewayView(d.webhookBaseUrl, g, operator[defaultGatewayField(g.channel)], open.get(g.id), slowed.get(g.id)));
}

async function ownGateway(d: Pick<Deps, 'gateways'>, operator: Operator, id: string): Promise<Gateway> {
  const gateway = await d.gateways.get(id);
  if (!gateway || gateway.operatorId !== operator.id) throw notFound(`Gateway "${id}"`);
  return gateway;
}

/**
 * Deletes one of the operator's gateways. The default SMS gateway goes only when it is the
 * operator's last one (the default is cleared first); otherwise another must become the default
 * first. Messages still queued through it are failed by the sender ("Gateway … no longer exists").
 */
export async function deleteGateway(d: D, operator: Operator, id: string): Promise<void> {
  const gateway = await ownGateway(d, operator, id);
  // The operator this request loaded may be stale: read the default as it is now.
  const current = (await d.operators.get(operator.id)) ?? operator;
  const field = defaultGatewayField(gateway.channel);
  if (current[field] === gateway.id) {
    const others = (await d.gateways.list(operator.id)).filter((g) => g.id !== gateway.id && g.channel === gateway.channel);
    if (others.length > 0) {
      throw conflict(
        `Gateway "${gateway.id}" is this operator's default ${gateway.channel} gateway; make another gateway the default first ` +
          '(PUT /v1/gateways/{id} with "default": true), then delete this one.',
      );
    }
    // Only while it is still this one: a gateway made default meanwhile keeps its place.
    await d.operators.update(operator.id, { [field]: null, updatedAt: d.clock.now().toISOString() }, { [field]: gateway.id });
  }
  await d.gateways.delete(gateway.id);
}

export type GatewayTestResult =
  | { ok: true; providerMessageId: string; detail: string }
  | { ok: false; kind: 'rejected' | 'gateway' | 'unavailable'; detail: string };

/**
 * Sends a real test message through one of the operator's gateways now, with the provider's adapter
 * and the sender's provider context, and says what the provider answered. Nothing is stored in the
 * message history and the daily message limit is not used; the destination rule applies as for a
 * send. No delivery receipt is asked for: there is no message it could be recorded on.
 */
export async function testGateway(
  d: D & Pick<Deps, 'fetch' | 'journal' | 'queue'>,
  operator: Operator,
  id: string,
  input: GatewayTestT,
): Promise<GatewayTestResult> {
  const gateway = await ownGateway(d, operator, id);
  const to = testRecipient(operator, gateway, input.to);
  assertSendableText(input.text, 'text');
  if (gateway.channel === 'sms') assertWithinMaxSegments(input.text, 'text');
  const opened = await openGateway(d, gateway.id);
  if (!opened) throw notFound(`Gateway "${id}"`);
  const testId = `test-${newId(d.clock.now())}`;
  try {
    const reply = await sendThrough(opened, { messageId: testId, to, text: input.text }, providerContext(d, opened.gateway.id));
    return {
      ok: true,
      providerMessageId: reply.providerMessageId,
      detail: `Accepted by ${opened.provider.displayName} for ${to} as ${reply.providerMessageId}. A test message is not kept in the message history.`,
    };
  } catch (error) {
    if (error instanceof ProviderRejected) return { ok: false, kind: 'rejected', detail: safeReason(error) };
    // The gateway itself cannot send (credentials, balance, sender): what an admin testing it most needs to hear.
    if (error instanceof GatewayFault) return { ok: false, kind: 'gateway', detail: safeReason(error) };
    if (error instanceof ProviderUnavailable) return { ok: false, kind: 'unavailable', detail: safeReason(error) };
    throw error;
  }
}

/** Where a test goes: a phone number within the destinations (SMS, WhatsApp), an address (email), a chat (Telegram). */
function testRecipient(operator: Operator, gateway: Gateway, given: string): string {
  switch (gateway.channel) {
    case 'email':
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(given)) throw invalid('A test email needs an address.', [{ field: 'to', message: 'must be an e-mail address' }]);
      return given.toLowerCase();
    case 'telegram':
      if (!/^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$/.test(given)) throw invalid('A Telegram test needs a chat.', [{ field: 'to', message: 'must be a chat id or @channelname' }]);
      return given;
    default: {
      const to = normalizeMobile(given, operator.defaultCountry, 'to');
      assertDestination(to, operator, 'to', `to ${to}`);
      return to;
    }
  }
}

/** Provider rates are documented per account or number; without one, a rate most gateways accept. */
const FALLBACK_MAX_PER_SECOND = 30;

/** A gateway's messages-per-second limit: its own, else its provider's documented rate, else 30. */
export function gatewayMaxPerSecond(gateway: Gateway): number {
  return gateway.maxPerSecond ?? providerFor(gateway.channel, gateway.provider)?.defaultMaxPerSecond ?? FALLBACK_MAX_PER_SECOND;
}

/** The API's view: credentials appear only as masked field names. */
export function gatewayView(
  webhookBaseUrl: string,
  gateway: Gateway,
  defaultGatewayId: string | undefined,
  circuitOpenUntil?: string,
  slowedDown?: { maxPerSecond: number; until: string },
) {
  return {
    id: gateway.id,
    name: gateway.name,
    channel: gateway.channel,
    provider: gateway.provider,
    settings: gateway.settings,
    credentials: Object.fromEntries(gateway.credentialFields.map((field) => [field, '********'])),
    webhookUrl: webhookUrl(webhookBaseUrl, gateway),
    default: gateway.id === defaultGatewayId,
    enabled: gateway.enabled !== false,
    priority: gateway.priority ?? 1,
    maxPerSecond: gatewayMaxPerSecond(gateway),
    ...(circuitOpenUntil ? { circuitOpenUntil } : {}),
    ...(slowedDown ? { slowedDown } : {}),
    createdAt: gateway.createdAt,
    updatedAt: gateway.updatedAt,
  };
}

/**
 * Opened credentials by sealed value: a batch of sends (or receipts) through one gateway costs one
 * KMS Decrypt, not one per message. Sealing uses a fresh IV, so new credentials never hit an old entry.
 */
const openedCredentials = new Map<string, Record<string, unknown>>();
const MAX_CACHED_GATEWAYS = 100;

/** A gateway with its provider and its credentials opened, for the sender and the webhooks. */
export async function openGateway(d: Pick<Deps, 'gateways' | 'cipher'>, gatewayId: string) {
  const gateway = await d.gateways.get(gatewayId);
  if (!gateway) return undefined;
  const provider = providerFor(gateway.channel, gateway.provider);
  if (!provider) throw conflict(`Gateway ${gateway.id} uses ${gateway.channel} provider "${gateway.provider}", which this version does not know.`);
  const version = `${gateway.id}:${gateway.sealedCredentials}`;
  let credentials = openedCredentials.get(version);
  if (!credentials) {
    credentials = JSON.parse(await d.cipher.open(gateway.sealedCredentials, credentialsContext(gateway))) as Record<string, unknown>;
    if (openedCredentials.size >= MAX_CACHED_GATEWAYS) openedCredentials.delete(openedCredentials.keys().next().value!);
    openedCredentials.set(version, credentials);
  }
  return { gateway, provider, credentials, settings: gateway.settings };
}

/** What a provider may use while it works for a gateway: HTTP, the clock, its own journal and a queue for later callbacks. */
export function providerContext(d: Pick<Deps, 'fetch' | 'clock' | 'journal' | 'queue'>, gatewayId: string): ProviderContext {
  return {
    fetch: d.fetch,
    clock: d.clock,
    journal: d.journal(gatewayId),
    later: (task, delaySeconds) => d.queue.enqueue('provider-callbacks', [task], { delaySeconds }),
  };
}
