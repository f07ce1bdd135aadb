import { smsProvider, smsProviders } from '../adapters/providers/sms/registry.js';
import { conflict, invalid, notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Gateway, Operator } from '../domain/records.js';
import type { GatewayInputT } from '../domain/schemas.js';
import type { Deps } from '../deps.js';
import type { ProviderContext, SmsProvider } from '../ports.js';
import { zodFields } from '../domain/zod-fields.js';

type D = Pick<Deps, 'gateways' | 'operators' | 'cipher' | 'clock' | 'publicBaseUrl'>;

/** The encryption context binds sealed credentials to their gateway and operator. */
export const credentialsContext = (gateway: Pick<Gateway, 'id' | 'operatorId'>) => ({ gatewayId: gateway.id, operatorId: gateway.operatorId });

export function webhookUrl(publicBaseUrl: string, gateway: Pick<Gateway, 'id' | 'channel' | 'provider'>): string {
  return `${publicBaseUrl}/webhooks/${gateway.channel}/${gateway.provider}/${gateway.id}`;
}

function providerFor(id: string): SmsProvider<any, any> {
  const provider = smsProvider(id);
  if (!provider) {
    throw invalid(`Unknown SMS provider "${id}".`, [{ field: 'provider', message: `must be one of: ${Object.keys(smsProviders).join(', ')}` }]);
  }
  return provider;
}

function parseWith<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: any } }, value: unknown, field: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalid(`The gateway's ${field} are not valid for this provider.`, zodFields(parsed.error, field));
  return parsed.data;
}

/** Creates (no id) or replaces (id) a gateway. Credentials may be omitted on replace to keep the sealed ones. */
export async function saveGateway(d: D, operator: Operator, input: GatewayInputT, id?: string) {
  const provider = providerFor(input.provider);
  const settings = parseWith(provider.settings, input.settings, 'settings');
  const existing = id ? await d.gateways.get(id) : undefined;
  if (id && (!existing || existing.operatorId !== operator.id)) throw notFound(`Gateway "${id}"`);
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
  if (input.credentials !== undefined) {
    const credentials = parseWith(provider.credentials, input.credentials, 'credentials') as Record<string, unknown>;
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
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  await d.gateways.put(gateway);
  let defaultGatewayId = operator.smsGatewayId;
  if (input.default || !operator.smsGatewayId) {
    defaultGatewayId = gateway.id;
    // Only this field: the operator record this request loaded may be stale (a settings PATCH in between).
    const updated = await d.operators.update(operator.id, { smsGatewayId: gateway.id, updatedAt: now });
    if (!updated) throw notFound(`Operator "${operator.id}"`);
  }
  return { view: gatewayView(d.publicBaseUrl, gateway, defaultGatewayId), created: !existing };
}

export async function getGateway(d: D, operator: Operator, id: string) {
  const gateway = await d.gateways.get(id);
  if (!gateway || gateway.operatorId !== operator.id) throw notFound(`Gateway "${id}"`);
  return gatewayView(d.publicBaseUrl, gateway, operator.smsGatewayId);
}

export async function listGateways(d: D, operator: Operator) {
  const gateways = await d.gateways.list(operator.id);
  return gateways.map((g) => gatewayView(d.publicBaseUrl, g, operator.smsGatewayId));
}

/** The API's view: credentials appear only as masked field names. */
export function gatewayView(publicBaseUrl: string, gateway: Gateway, defaultGatewayId: string | undefined) {
  return {
    id: gateway.id,
    name: gateway.name,
    channel: gateway.channel,
    provider: gateway.provider,
    settings: gateway.settings,
    credentials: Object.fromEntries(gateway.credentialFields.map((field) => [field, '********'])),
    webhookUrl: webhookUrl(publicBaseUrl, gateway),
    default: gateway.id === defaultGatewayId,
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
  const provider = smsProvider(gateway.provider);
  if (!provider) throw conflict(`Gateway ${gateway.id} uses provider "${gateway.provider}", which this version does not know.`);
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
