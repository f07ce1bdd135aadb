/**
 * A form generated from a JSON Schema (the provider's credentials or settings from GET /v1/providers),
 * so a new provider needs no console change. Strings, numbers, booleans and enums get their own
 * inputs; write-only fields (secrets) are password inputs; anything richer is edited as JSON.
 */
import { NumberInput, PasswordInput, Select, Stack, Switch, Textarea, TextInput } from '@mantine/core';
import { useTranslation } from 'react-i18next';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  description?: string;
  default?: unknown;
  writeOnly?: boolean;
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  title?: string;
}

export type FormValues = Record<string, unknown>;

/** "senderId" → "Sender id". */
export function labelOf(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Values as the API wants them: empty fields left out, JSON fields parsed. */
export function toPayload(schema: JsonSchema, values: FormValues): FormValues {
  const out: FormValues = {};
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const value = values[name];
    if (value === undefined || value === '' || value === null) continue;
    if (isRich(field) && typeof value === 'string') {
      try {
        out[name] = JSON.parse(value);
      } catch {
        out[name] = value;
      }
    } else out[name] = value;
  }
  return out;
}

const typeOf = (field: JsonSchema) => (Array.isArray(field.type) ? field.type.find((t) => t !== 'null') : field.type);
const isRich = (field: JsonSchema) => !field.enum && !['string', 'number', 'integer', 'boolean'].includes(typeOf(field) ?? '');

export function SchemaForm(props: {
  schema: JsonSchema;
  values: FormValues;
  onChange(values: FormValues): void;
  /** Secret fields already set on the gateway, shown masked ("••••1234"): leave empty to keep. */
  masked?: Record<string, string>;
  idPrefix: string;
  disabled?: boolean;
}) {
  const { t } = useTranslation();
  const { schema, values, onChange, masked, idPrefix, disabled } = props;
  const set = (name: string, value: unknown) => onChange({ ...values, [name]: value });
  const required = new Set(schema.required ?? []);
  return (
    <Stack gap="sm">
      {Object.entries(schema.properties ?? {}).map(([name, field]) => {
        const common = {
          key: name,
          id: `${idPrefix}-${name}`,
          label: labelOf(name),
          description: field.description,
          disabled,
          // A masked secret is kept when left empty, so it is not required again.
          withAsterisk: required.has(name) && !masked?.[name],
        };
        const value = values[name];
        if (field.enum) {
          return (
            <Select
              {...common}
              data={field.enum.map(String)}
              value={value === undefined ? null : String(value)}
              onChange={(v) => set(name, v ?? undefined)}
              clearable={!required.has(name)}
            />
          );
        }
        switch (typeOf(field)) {
          case 'boolean':
            return <Switch {...common} checked={Boolean(value ?? field.default)} onChange={(e) => set(name, e.currentTarget.checked)} />;
          case 'integer':
          case 'number':
            return (
              <NumberInput
                {...common}
                value={typeof value === 'number' ? value : ''}
                placeholder={field.default !== undefined ? String(field.default) : undefined}
                min={field.minimum}
                max={field.maximum}
                allowDecimal={typeOf(field) === 'number'}
                onChange={(v) => set(name, typeof v === 'number' ? v : undefined)}
              />
            );
          case 'string':
            return field.writeOnly ? (
              <PasswordInput
                {...common}
                autoComplete="off"
                value={typeof value === 'string' ? value : ''}
                placeholder={masked?.[name] ? t('gateways.keepSecret', { masked: masked[name] }) : undefined}
                onChange={(e) => set(name, e.currentTarget.value)}
              />
            ) : (
              <TextInput
                {...common}
                value={typeof value === 'string' ? value : ''}
                placeholder={field.default !== undefined ? String(field.default) : undefined}
                onChange={(e) => set(name, e.currentTarget.value)}
              />
            );
          default:
            return (
              <Textarea
                {...common}
                description={[field.description, t('gateways.jsonField')].filter(Boolean).join(' ')}
                autosize
                minRows={2}
                styles={{ input: { fontFamily: 'monospace' } }}
                value={typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value, null, 2)}
                onChange={(e) => set(name, e.currentTarget.value)}
              />
            );
        }
      })}
    </Stack>
  );
}
