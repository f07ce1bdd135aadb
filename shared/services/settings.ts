/** The operator's own settings: GET and PATCH /v1/settings. */
import { destinationCountries } from '../domain/destination.js';
import { invalid, notFound } from '../domain/errors.js';
import type { Operator } from '../domain/records.js';
import { operatorLimits } from '../domain/rate-limit.js';
import { Settings, type SettingsPatchT } from '../domain/schemas.js';
import type { Deps } from '../deps.js';
import type { OperatorChanges } from '../ports.js';

/** An OTP's SMS when the operator has not written its own. */
export const DEFAULT_OTP_SMS_TEXT = '{{code}} is your {{operator.name}} code. It expires in {{minutes}} minutes.';

type D = Pick<Deps, 'operators' | 'clock' | 'gateways'>;

/** A rule names one of the operator's own gateways (a deleted or disabled one is simply skipped later). */
async function checkRuleGateways(d: D, operator: Operator, rules: { gatewayId: string }[]): Promise<void> {
  const own = new Set((await d.gateways.list(operator.id)).map((g) => g.id));
  const problems = rules.flatMap((rule, i) => (own.has(rule.gatewayId) ? [] : [{ field: `routing.rules.${i}.gatewayId`, message: `is not one of this operator's gateways` }]));
  if (problems.length > 0) throw invalid('A routing rule names a gateway this operator does not have.', problems);
}

/** The settings as the API shows them: defaults filled in, storage-only fields left out. */
export function settingsView(operator: Operator) {
  return Settings.parse({
    id: operator.id,
    name: operator.name,
    defaultCountry: operator.defaultCountry,
    timezone: operator.timezone,
    limits: operatorLimits(operator),
    destinationCountries: destinationCountries(operator),
    routing: {
      whatsappUsesMobile: operator.whatsappUsesMobile ?? false,
      fallbackToSms: operator.fallbackToSms ?? true,
      fallbackAfterSeconds: operator.fallbackAfterSeconds ?? null,
      rules: operator.routingRules ?? [],
    },
    otp: { whatsappTemplate: operator.otpWhatsappTemplate ?? null, smsText: operator.otpSmsText ?? DEFAULT_OTP_SMS_TEXT },
    optOutWords: operator.optOutWords ?? [],
    optInWords: operator.optInWords ?? [],
    systemAlertPurpose: operator.systemAlertPurpose ?? 'emergency',
    paymentUrlTemplate: operator.paymentUrlTemplate ?? null,
    quietHours: operator.quietHours ?? null,
    supportPhone: operator.supportPhone ?? null,
    createdAt: operator.createdAt,
    updatedAt: operator.updatedAt,
  });
}

/**
 * The operator record's fields a PATCH sets: only those it names (null removes a setting, which then
 * takes its default). Nested `limits` merge: `{"limits":{"messagesPerDay":500}}` keeps requestsPerSecond.
 */
export function settingsChanges(patch: SettingsPatchT): OperatorChanges {
  const changes: OperatorChanges = {
    name: patch.name,
    defaultCountry: patch.defaultCountry,
    timezone: patch.timezone,
    requestsPerSecond: patch.limits?.requestsPerSecond,
    messagesPerDay: patch.limits?.messagesPerDay,
    destinationCountries: patch.destinationCountries,
    whatsappUsesMobile: patch.routing?.whatsappUsesMobile,
    fallbackToSms: patch.routing?.fallbackToSms,
    fallbackAfterSeconds: patch.routing?.fallbackAfterSeconds,
    routingRules: patch.routing?.rules,
    otpWhatsappTemplate: patch.otp?.whatsappTemplate,
    otpSmsText: patch.otp?.smsText,
    optOutWords: patch.optOutWords,
    optInWords: patch.optInWords,
    systemAlertPurpose: patch.systemAlertPurpose,
    paymentUrlTemplate: patch.paymentUrlTemplate,
    quietHours: patch.quietHours,
    supportPhone: patch.supportPhone,
  };
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
}

/** Applies a PATCH with one UpdateItem of the named fields (never a read-modify-write of the record). */
export async function updateSettings(d: D, operator: Operator, patch: SettingsPatchT) {
  if (patch.routing?.rules) await checkRuleGateways(d, operator, patch.routing.rules);
  const changes = settingsChanges(patch);
  if (Object.keys(changes).length === 0) return settingsView(operator); // {} changes nothing
  const updated = await d.operators.update(operator.id, { ...changes, updatedAt: d.clock.now().toISOString() });
  if (!updated) throw notFound(`Operator "${operator.id}"`);
  return settingsView(updated);
}
