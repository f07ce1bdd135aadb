/**
 * Gateway presets: ready descriptions of real SMS gateways for the generic HTTP provider (`http`).
 * GET /v1/gateway-presets lists them; POST /v1/gateways with `preset` takes the preset's settings
 * and adds only the operator's own (the sender) and the credentials the preset names.
 */
import { z } from 'zod';
import { urlForCheck, credentialsUsed, type HttpGatewaySettings } from '../adapters/providers/sms/http-gateway.js';
import { checkOutboundUrl, OutboundUrlRefused } from '../adapters/outbound/url-guard.js';
import { invalid, ProviderUnavailable, type FieldProblem } from '../domain/errors.js';
import type { GatewayInputT } from '../domain/schemas.js';
import { gatewayPreset, gatewayPresets, type GatewayPreset } from '../presets/index.js';

export const GatewayPresetView = z
  .object({
    id: z.string().describe('Give it as `preset` in POST /v1/gateways, with provider "http".'),
    name: z.string(),
    country: z.string().describe('ISO 3166-1 alpha-2 country the gateway mainly serves.'),
    docs: z.string().describe('The public documentation the preset follows.'),
    provider: z.literal('http'),
    credentials: z.array(z.string()).describe('The credential fields to give (webhookSecret included).'),
    settings: z.array(z.string()).describe('The settings the operator still gives; the preset supplies the rest.'),
  })
  .meta({ id: 'GatewayPreset' });
export type GatewayPresetViewT = z.infer<typeof GatewayPresetView>;

const WEBHOOK_SECRET = 'webhookSecret';

function view(preset: GatewayPreset): GatewayPresetViewT {
  return {
    id: preset.id,
    name: preset.name,
    country: preset.country,
    docs: preset.docs,
    provider: 'http',
    credentials: [...preset.credentials, WEBHOOK_SECRET],
    settings: [...preset.operatorSettings],
  };
}

export function listGatewayPresets(): GatewayPresetViewT[] {
  return gatewayPresets.map(view);
}

/**
 * The gateway input with the preset's settings filled in. The operator's settings may give only
 * the preset's operator settings (the sender); credentials, when given, must be exactly the
 * preset's fields plus webhookSecret.
 */
export function applyPreset<T extends Pick<GatewayInputT, 'preset' | 'provider' | 'settings' | 'credentials'>>(input: T): T {
  if (input.preset === undefined) return input;
  const preset = gatewayPreset(input.preset);
  if (!preset) {
    throw invalid(`Unknown gateway preset "${input.preset.slice(0, 40)}".`, [{ field: 'preset', message: `must be one of: ${gatewayPresets.map((p) => p.id).join(', ')}` }]);
  }
  if (input.provider !== 'http') {
    throw invalid('Presets describe gateways for the generic HTTP provider.', [{ field: 'provider', message: 'must be "http" with a preset' }]);
  }
  const problems: FieldProblem[] = [];
  const own = input.settings ?? {};
  for (const name of Object.keys(own)) {
    if (!(preset.operatorSettings as string[]).includes(name)) {
      problems.push({ field: `settings.${name}`, message: `is given by the preset "${preset.id}"; only ${preset.operatorSettings.join(', ')} may be set` });
    }
  }
  for (const name of preset.operatorSettings) {
    if (own[name] === undefined) problems.push({ field: `settings.${name}`, message: `is required with the preset "${preset.id}"` });
  }
  if (input.credentials !== undefined) {
    const expected = [...preset.credentials, WEBHOOK_SECRET];
    const given = Object.keys(input.credentials);
    for (const name of expected) if (!given.includes(name)) problems.push({ field: `credentials.${name}`, message: `is required by the preset "${preset.id}"` });
    for (const name of given) {
      if (!expected.includes(name)) problems.push({ field: `credentials.${name}`, message: `is not a credential of the preset "${preset.id}" (it takes ${expected.join(', ')})` });
    }
  }
  if (problems.length > 0) throw invalid(`The gateway does not fit the preset "${preset.id}".`, problems);
  const settings: Record<string, unknown> = structuredClone(preset.settings) as Record<string, unknown>;
  for (const name of preset.operatorSettings) settings[name] = own[name];
  return { ...input, settings };
}

/**
 * What saving an `http` gateway checks beyond its schema: the request URL passes the outbound URL
 * guard now (DNS included), and every {{credentials.<field>}} the templates use is given.
 */
export async function checkHttpGateway(settings: HttpGatewaySettings, credentials: Record<string, unknown> | undefined): Promise<void> {
  try {
    await checkOutboundUrl(urlForCheck(settings.request.url));
  } catch (error) {
    if (error instanceof OutboundUrlRefused) {
      throw invalid(`The gateway's request URL is refused: the URL ${error.reason}.`, [{ field: 'settings.request.url', message: `is refused: the URL ${error.reason}` }]);
    }
    if (error instanceof ProviderUnavailable) {
      throw invalid(`The gateway's request URL could not be checked: ${error.message}`, [{ field: 'settings.request.url', message: 'could not be checked now (its host did not resolve); try again' }]);
    }
    throw error;
  }
  if (credentials !== undefined) {
    const missing = credentialsUsed(settings).filter((name) => !Object.hasOwn(credentials, name));
    if (missing.length > 0) {
      throw invalid(
        'The request templates use credentials the gateway does not have.',
        missing.map((name) => ({ field: `credentials.${name}`, message: `is used by the request as {{credentials.${name}}} and is required` })),
      );
    }
  }
}
