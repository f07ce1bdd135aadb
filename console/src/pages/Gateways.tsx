import { Alert, Badge, Button, Card, Code, Group, NumberInput, Select, SimpleGrid, Stack, Switch, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, client, unwrap, type Schemas } from '../api/client';
import { useSession } from '../api/session';
import { useApi } from '../api/use-api';
import { PageTitle } from '../components/PageTitle';
import { ProblemAlert } from '../components/ProblemAlert';
import { SchemaForm, toPayload, type FormValues, type JsonSchema } from '../components/SchemaForm';
import { useFormat } from '../format';

type Gateway = Schemas['Gateway'];
type Provider = Schemas['Provider'];
type Preset = Schemas['GatewayPreset'];
const channels = ['sms', 'whatsapp', 'email', 'telegram'] as const;

/** A preset's field names as a schema of plain strings (credentials write-only). */
const presetSchema = (fields: string[], secret: boolean): JsonSchema => ({
  type: 'object',
  properties: Object.fromEntries(fields.map((f) => [f, { type: 'string', ...(secret ? { writeOnly: true } : {}) }])),
  required: fields,
});

export function GatewaysPage() {
  const { t } = useTranslation();
  const session = useSession();
  const gateways = useApi(() => unwrap(client.GET('/v1/gateways')), []);
  const providers = useApi(() => unwrap(client.GET('/v1/providers')), []);
  const presets = useApi(() => unwrap(client.GET('/v1/gateway-presets')), []);
  const [editing, setEditing] = useState<Gateway | 'new'>();
  const canWrite = session.can('POST /v1/gateways');
  return (
    <Stack>
      <PageTitle actions={canWrite && <Button onClick={() => setEditing('new')}>{t('gateways.add')}</Button>}>{t('nav.gateways')}</PageTitle>
      <ProblemAlert error={gateways.error ?? providers.error} />
      {editing && providers.data && (
        <GatewayForm
          key={editing === 'new' ? 'new' : editing.id}
          gateway={editing === 'new' ? undefined : editing}
          providers={providers.data.items}
          presets={presets.data?.items ?? []}
          onDone={() => {
            setEditing(undefined);
            gateways.reload();
          }}
          onCancel={() => setEditing(undefined)}
        />
      )}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        {(gateways.data?.items ?? []).map((g) => (
          <GatewayCard key={g.id} gateway={g} onEdit={() => setEditing(g)} onDeleted={gateways.reload} />
        ))}
      </SimpleGrid>
    </Stack>
  );
}

function GatewayCard({ gateway: g, onEdit, onDeleted }: { gateway: Gateway; onEdit(): void; onDeleted(): void }) {
  const { t } = useTranslation();
  const format = useFormat();
  const session = useSession();
  const [to, setTo] = useState('');
  const [text, setText] = useState(t('gateways.testText'));
  const [result, setResult] = useState<Schemas['GatewayTestResult']>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const test = async () => {
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      setResult(await unwrap(client.POST('/v1/gateways/{id}/test', { params: { path: { id: g.id } }, body: { to, text } })));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    if (!window.confirm(t('gateways.confirmDelete', { name: g.name }))) return;
    try {
      await call('DELETE', `/v1/gateways/${encodeURIComponent(g.id)}`);
      onDeleted();
    } catch (e) {
      setError(e);
    }
  };
  const open = g.circuitOpenUntil && g.circuitOpenUntil > new Date().toISOString();
  return (
    <Card withBorder data-testid={`gateway-${g.id}`}>
      <Stack gap="xs">
        <Group justify="space-between">
          <Title order={2} size="h4">
            {g.name}
          </Title>
          <Group gap={4}>
            <Badge variant="filled" color="dark.5">{t(`channels.${g.channel}`)}</Badge>
            {g.default && <Badge color="blue.8">{t('gateways.default')}</Badge>}
            {!g.enabled && <Badge color="gray.7">{t('gateways.disabled')}</Badge>}
          </Group>
        </Group>
        <Text size="sm">
          {g.provider} · {t('gateways.priority')} {g.priority} · {t('gateways.perSecond', { count: g.maxPerSecond })}
        </Text>
        {open && <Alert color="red">{t('dashboard.circuitOpenUntil', { until: format.dateTime(g.circuitOpenUntil!) })}</Alert>}
        {Object.keys(g.credentials).length > 0 && (
          <Text size="sm">
            {t('gateways.credentials')}:{' '}
            {Object.entries(g.credentials).map(([k, v]) => (
              <Code key={k} mr={4}>
                {k}: {v}
              </Code>
            ))}
          </Text>
        )}
        <Text size="xs" style={{ wordBreak: 'break-all' }}>
          {t('gateways.webhookUrl')}: <Code>{g.webhookUrl}</Code>
        </Text>
        {session.can('POST /v1/gateways/{id}/test') && (g.channel === 'sms' || g.channel === 'whatsapp' || g.channel === 'telegram') && (
          <Group align="end" wrap="wrap">
            <TextInput label={t('gateways.testTo')} value={to} onChange={(e) => setTo(e.currentTarget.value)} size="xs" />
            <TextInput label={t('send.text')} value={text} onChange={(e) => setText(e.currentTarget.value)} size="xs" />
            <Button size="xs" onClick={test} loading={busy} disabled={!to}>
              {t('gateways.sendTest')}
            </Button>
          </Group>
        )}
        {result && (
          <Alert color={result.ok ? 'green' : 'red'} title={result.ok ? t('gateways.testOk') : t(`gateways.testFailed.${result.kind}`)} role="status" data-testid="test-result">
            {result.detail}
          </Alert>
        )}
        <ProblemAlert error={error} />
        {session.can('PUT /v1/gateways/{id}') && (
          <Group>
            <Button size="xs" variant="default" onClick={onEdit}>
              {t('common.edit')}
            </Button>
            <Button size="xs" variant="outline" color="red.9" onClick={remove}>
              {t('common.delete')}
            </Button>
          </Group>
        )}
      </Stack>
    </Card>
  );
}

function GatewayForm(props: { gateway?: Gateway; providers: Provider[]; presets: Preset[]; onDone(): void; onCancel(): void }) {
  const { t } = useTranslation();
  const { gateway } = props;
  const [channel, setChannel] = useState<string>(gateway?.channel ?? 'sms');
  const [providerId, setProviderId] = useState<string | null>(gateway?.provider ?? null);
  const [presetId, setPresetId] = useState<string | null>((gateway?.settings.preset as string | undefined) ?? null);
  const [name, setName] = useState(gateway?.name ?? '');
  const [priority, setPriority] = useState<number>(gateway?.priority ?? 1);
  const [isDefault, setDefault] = useState(gateway?.default ?? false);
  const [enabled, setEnabled] = useState(gateway?.enabled ?? true);
  const [credentials, setCredentials] = useState<FormValues>({});
  const [settings, setSettings] = useState<FormValues>(gateway?.settings ?? {});
  const [error, setError] = useState<unknown>();
  const [generated, setGenerated] = useState<Record<string, string>>();
  const provider = props.providers.find((p) => p.id === providerId && p.channel === channel);
  const preset = providerId === 'http' ? props.presets.find((p) => p.id === presetId) : undefined;
  const credentialSchema = (preset ? presetSchema(preset.credentials, true) : provider?.credentials) as JsonSchema | undefined;
  const settingsSchema = (preset ? presetSchema(preset.settings, false) : provider?.settings) as JsonSchema | undefined;

  const save = async () => {
    setError(undefined);
    const creds = credentialSchema ? toPayload(credentialSchema, credentials) : {};
    const body: Schemas['GatewayInput'] = {
      name,
      channel: channel as Schemas['GatewayInput']['channel'],
      provider: providerId ?? '',
      settings: settingsSchema ? toPayload(settingsSchema, settings) : {},
      priority,
      default: isDefault,
      enabled,
      ...(preset ? { preset: preset.id } : {}),
      // On an update, no credentials typed keeps the sealed ones.
      ...(Object.keys(creds).length > 0 || !gateway ? { credentials: creds } : {}),
    };
    try {
      const saved = gateway
        ? await unwrap(client.PUT('/v1/gateways/{id}', { params: { path: { id: gateway.id } }, body }))
        : await unwrap(client.POST('/v1/gateways', { body }));
      if (saved.generatedCredentials) setGenerated(saved.generatedCredentials);
      else props.onDone();
    } catch (e) {
      setError(e);
    }
  };

  if (generated) {
    return (
      <Alert color="blue" title={t('gateways.generated')}>
        {Object.entries(generated).map(([k, v]) => (
          <Text key={k}>
            {k}: <Code>{v}</Code>
          </Text>
        ))}
        <Button mt="sm" onClick={props.onDone}>
          {t('common.done')}
        </Button>
      </Alert>
    );
  }
  return (
    <Card withBorder component="form" onSubmit={(e) => (e.preventDefault(), void save())} aria-label={t('gateways.form')}>
      <Stack>
        <Title order={2} size="h4">
          {gateway ? t('gateways.edit', { name: gateway.name }) : t('gateways.add')}
        </Title>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select
            label={t('fields.channel')}
            data={channels.map((c) => ({ value: c, label: t(`channels.${c}`) }))}
            value={channel}
            onChange={(c) => {
              if (!c) return;
              setChannel(c);
              setProviderId(null);
            }}
            disabled={Boolean(gateway)}
            allowDeselect={false}
          />
          <Select
            label={t('gateways.provider')}
            data={props.providers.filter((p) => p.channel === channel).map((p) => ({ value: p.id, label: p.displayName }))}
            value={providerId}
            onChange={(p) => {
              setProviderId(p);
              setCredentials({});
              setSettings({});
            }}
            disabled={Boolean(gateway)}
            searchable
          />
          {providerId === 'http' && (
            <Select
              label={t('gateways.preset')}
              description={t('gateways.presetHint')}
              data={props.presets.map((p) => ({ value: p.id, label: `${p.name} (${p.country})` }))}
              value={presetId}
              onChange={setPresetId}
              clearable
            />
          )}
          <TextInput label={t('fields.name')} value={name} onChange={(e) => setName(e.currentTarget.value)} required />
          <NumberInput label={t('gateways.priority')} value={priority} onChange={(v) => setPriority(typeof v === 'number' ? v : 1)} min={1} max={100} />
          <Group>
            <Switch label={t('gateways.default')} checked={isDefault} onChange={(e) => setDefault(e.currentTarget.checked)} />
            <Switch label={t('gateways.enabled')} checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
          </Group>
        </SimpleGrid>
        {credentialSchema && (
          <fieldset style={{ border: 0, padding: 0, margin: 0 }}>
            <Text component="legend" fw={600} mb="xs">
              {t('gateways.credentials')}
            </Text>
            <SchemaForm idPrefix="cred" schema={credentialSchema} values={credentials} onChange={setCredentials} masked={gateway?.credentials} />
          </fieldset>
        )}
        {settingsSchema && Object.keys(settingsSchema.properties ?? {}).length > 0 && (
          <fieldset style={{ border: 0, padding: 0, margin: 0 }}>
            <Text component="legend" fw={600} mb="xs">
              {t('gateways.settings')}
            </Text>
            <SchemaForm idPrefix="set" schema={settingsSchema} values={settings} onChange={setSettings} />
          </fieldset>
        )}
        <ProblemAlert error={error} />
        <Group>
          <Button type="submit" disabled={!providerId || !name}>
            {t('common.save')}
          </Button>
          <Button variant="default" onClick={props.onCancel}>
            {t('common.cancel')}
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}
