import { ActionIcon, Button, Card, Group, NumberInput, Select, SimpleGrid, Stack, Switch, Table, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, client, unwrap } from '../api/client';
import { useSession } from '../api/session';
import { useApi } from '../api/use-api';
import { PageTitle } from '../components/PageTitle';
import { NotAvailable, ProblemAlert, isMissingRoute } from '../components/ProblemAlert';
import type { EventRule, Notifier } from './types';

const channelOptions = ['auto', 'sms', 'whatsapp', 'email'];

export function RemindersPage() {
  const { t } = useTranslation();
  const templates = useApi(() => unwrap(client.GET('/v1/templates')), []);
  const templateOptions = (templates.data?.items ?? []).map((tpl) => ({ value: tpl.id, label: tpl.name }));
  return (
    <Stack>
      <PageTitle>{t('nav.reminders')}</PageTitle>
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <NotifierCard kind="due-date" templates={templateOptions} />
        <NotifierCard kind="expiration" templates={templateOptions} />
      </SimpleGrid>
      <EventRules templates={templateOptions} />
    </Stack>
  );
}

type Options = Array<{ value: string; label: string }>;

function NotifierCard({ kind, templates }: { kind: 'due-date' | 'expiration'; templates: Options }) {
  const { t } = useTranslation();
  const session = useSession();
  const loaded = useApi(() => call<Notifier>('GET', `/v1/notifiers/${kind}`), [kind]);
  const [draft, setDraft] = useState<Notifier>();
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  useEffect(() => setDraft(loaded.data), [loaded.data]);
  const readOnly = !session.can(`PUT /v1/notifiers/${kind}`);
  const title = t(`reminders.${kind}`);
  if (isMissingRoute(loaded.error)) return <NotAvailable feature={title} />;
  const set = (patch: Partial<Notifier>) => {
    setSaved(false);
    setDraft({ ...draft!, ...patch });
  };
  const save = async () => {
    setError(undefined);
    try {
      // What the API takes back: its reply's kind and updatedAt are not part of it.
      const { enabled, steps, sendAt, timezone } = draft!;
      setDraft(await call<Notifier>('PUT', `/v1/notifiers/${kind}`, { enabled, steps, sendAt, ...(timezone ? { timezone } : {}) }));
      setSaved(true);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <Card withBorder>
      <Stack>
        <Title order={2} size="h4">
          {title}
        </Title>
        <Text size="sm">{t(`reminders.${kind}Hint`)}</Text>
        <ProblemAlert error={loaded.error} />
        {draft && (
          <>
            <Switch label={t('reminders.enabled')} checked={draft.enabled} onChange={(e) => set({ enabled: e.currentTarget.checked })} disabled={readOnly} />
            <Group grow>
              <TextInput type="time" label={t('reminders.sendAt')} value={draft.sendAt} onChange={(e) => set({ sendAt: e.currentTarget.value })} disabled={readOnly} />
              <TextInput label={t('settings.timezone')} value={draft.timezone ?? ''} onChange={(e) => set({ timezone: e.currentTarget.value || undefined })} disabled={readOnly} />
            </Group>
            <Text fw={600} size="sm">
              {t('reminders.ladder')}
            </Text>
            {draft.steps.map((step, i) => (
              <Group key={i} align="end" wrap="wrap" gap="xs">
                <NumberInput
                  label={t('reminders.offsetDays')}
                  description={i === 0 ? t('reminders.offsetHint') : undefined}
                  value={step.offsetDays}
                  onChange={(v) => set({ steps: draft.steps.map((s, j) => (j === i ? { ...s, offsetDays: Number(v) || 0 } : s)) })}
                  w={120}
                  disabled={readOnly}
                />
                <Select label={t('fields.channel')} data={channelOptions.map((c) => ({ value: c, label: t(`channels.${c}`) }))} value={step.channel} onChange={(v) => v && set({ steps: draft.steps.map((s, j) => (j === i ? { ...s, channel: v } : s)) })} w={140} disabled={readOnly} />
                <Select label={t('send.template')} data={templates} value={step.templateId} onChange={(v) => v && set({ steps: draft.steps.map((s, j) => (j === i ? { ...s, templateId: v } : s)) })} w={200} disabled={readOnly} />
                {!readOnly && (
                  <ActionIcon variant="default" size="lg" aria-label={t('common.remove')} onClick={() => set({ steps: draft.steps.filter((_, j) => j !== i) })}>
                    ×
                  </ActionIcon>
                )}
              </Group>
            ))}
            {!readOnly && (
              <Group>
                <Button size="xs" variant="default" onClick={() => set({ steps: [...draft.steps, { offsetDays: 0, channel: 'sms', templateId: templates[0]?.value ?? '' }] })}>
                  {t('reminders.addStep')}
                </Button>
                <Button size="xs" onClick={save}>
                  {t('common.save')}
                </Button>
              </Group>
            )}
            <ProblemAlert error={error} />
            {saved && <Text c="green.9" role="status">{t('common.saved')}</Text>}
          </>
        )}
      </Stack>
    </Card>
  );
}

function EventRules({ templates }: { templates: Options }) {
  const { t } = useTranslation();
  const session = useSession();
  const rules = useApi(() => call<{ items: Array<EventRule & { type: string }> }>('GET', '/v1/event-rules'), []);
  const [editing, setEditing] = useState<EventRule & { type: string }>();
  const [error, setError] = useState<unknown>();
  if (isMissingRoute(rules.error)) return <NotAvailable feature={t('reminders.eventRules')} />;
  const save = async () => {
    if (!editing) return;
    setError(undefined);
    try {
      const { type, enabled, channels, alert } = editing;
      await call('PUT', `/v1/event-rules/${encodeURIComponent(type)}`, { enabled, channels, ...(alert ? { alert } : {}) });
      setEditing(undefined);
      rules.reload();
    } catch (e) {
      setError(e);
    }
  };
  const canWrite = session.can('PUT /v1/event-rules/{type}');
  return (
    <Card withBorder>
      <Stack>
        <Title order={2} size="h4">
          {t('reminders.eventRules')}
        </Title>
        <ProblemAlert error={rules.error} />
        <div className="table-scroll" tabIndex={0}>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('reminders.event')}</Table.Th>
                <Table.Th>{t('reminders.enabled')}</Table.Th>
                <Table.Th>{t('reminders.channels')}</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(rules.data?.items ?? []).map((rule) => (
                <Table.Tr key={rule.type}>
                  <Table.Td>{rule.type}</Table.Td>
                  <Table.Td>{rule.enabled ? t('common.yes') : t('common.no')}</Table.Td>
                  <Table.Td>{rule.channels.map((c) => `${t(`channels.${c.channel}`)}: ${c.templateId}`).join(', ')}</Table.Td>
                  <Table.Td>
                    {canWrite && (
                      <Button size="compact-xs" variant="default" onClick={() => setEditing(structuredClone(rule))}>
                        {t('common.edit')}
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </div>
        {editing && (
          <Card withBorder>
            <Stack>
              <Title order={3} size="h5">
                {editing.type}
              </Title>
              <Switch label={t('reminders.enabled')} checked={editing.enabled} onChange={(e) => setEditing({ ...editing, enabled: e.currentTarget.checked })} />
              {editing.channels.map((c, i) => (
                <Group key={i} align="end" gap="xs">
                  <Select label={t('fields.channel')} data={channelOptions.map((v) => ({ value: v, label: t(`channels.${v}`) }))} value={c.channel} onChange={(v) => v && setEditing({ ...editing, channels: editing.channels.map((x, j) => (j === i ? { ...x, channel: v } : x)) })} w={140} />
                  <Select label={t('send.template')} data={templates} value={c.templateId} onChange={(v) => v && setEditing({ ...editing, channels: editing.channels.map((x, j) => (j === i ? { ...x, templateId: v } : x)) })} w={200} />
                  <ActionIcon variant="default" size="lg" aria-label={t('common.remove')} onClick={() => setEditing({ ...editing, channels: editing.channels.filter((_, j) => j !== i) })}>
                    ×
                  </ActionIcon>
                </Group>
              ))}
              <Group>
                <Button size="xs" variant="default" onClick={() => setEditing({ ...editing, channels: [...editing.channels, { channel: 'sms', templateId: templates[0]?.value ?? '' }] })}>
                  {t('reminders.addChannel')}
                </Button>
                <Button size="xs" onClick={save}>
                  {t('common.save')}
                </Button>
                <Button size="xs" variant="default" onClick={() => setEditing(undefined)}>
                  {t('common.cancel')}
                </Button>
              </Group>
              <ProblemAlert error={error} />
            </Stack>
          </Card>
        )}
      </Stack>
    </Card>
  );
}
