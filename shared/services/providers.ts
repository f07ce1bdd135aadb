/**
 * What the API tells a client about the providers this version knows: for every channel, each
 * provider's id, name and the JSON Schemas of its credentials and settings, generated from the
 * providers' own zod schemas, so a client can build gateway setup forms without knowing providers
 * in advance.
 */
import { z } from 'zod';
import { providersByChannel } from '../adapters/providers/registry.js';

/** What the listing needs of a provider, whatever its channel. */
interface DescribedProvider {
  id: string;
  channel: string;
  displayName: string;
  credentials: z.ZodType;
  settings: z.ZodType;
}

const registries: ReadonlyArray<Record<string, DescribedProvider>> = Object.values(providersByChannel);

export interface ProviderDescription {
  id: string;
  channel: string;
  displayName: string;
  /** JSON Schema of the credentials; every field is marked writeOnly (sent on setup, never returned). */
  credentials: Record<string, unknown>;
  /** JSON Schema of the settings. */
  settings: Record<string, unknown>;
}

/** The input side: fields with a default are optional, as a client sends them. */
const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

/** Marks every property of an object schema (and the object itself) write-only. */
function writeOnly(schema: Record<string, unknown>): Record<string, unknown> {
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  return {
    ...schema,
    writeOnly: true,
    ...(properties ? { properties: Object.fromEntries(Object.entries(properties).map(([name, field]) => [name, { ...field, writeOnly: true }])) } : {}),
  };
}

function describe(provider: DescribedProvider): ProviderDescription {
  return {
    id: provider.id,
    channel: provider.channel,
    displayName: provider.displayName,
    credentials: writeOnly(jsonSchema(provider.credentials)),
    settings: jsonSchema(provider.settings),
  };
}

let cached: ProviderDescription[] | undefined;

/** Every provider of every channel. Depends on code only, so it is generated once per process. */
export function listProviders(): ProviderDescription[] {
  cached ??= registries.flatMap((registry) => Object.values(registry).map(describe));
  return cached;
}
