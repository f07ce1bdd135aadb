import { Anchor, Badge, Button, Card, Group, Select, SimpleGrid, Stack, Table, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { client, unwrap, type Schemas } from '../api/client';
import { useSession } from '../api/session';
import { useApi } from '../api/use-api';
import { PageTitle } from '../components/PageTitle';
import { ProblemAlert } from '../components/ProblemAlert';

type Template = Schemas['Template'];
type Draft = { id: string; name: string; channel: 'sms' | 'whatsapp' | 'email' | 'telegram'; body: string; whatsapp?: { name: string; language: string; parameters: string[] }; email?: { subject: string; html: string } };

const blank: Draft = { id: '', name: '', channel: 'sms', body: '' };
/** The Mustache variables a text names, as the API lists them. */
const variablesIn = (...texts: string[]) => [...new Set(texts.flatMap((text) => [...text.matchAll(/{{{?\s*([A-Za-z_][\w.]*)\s*}?}}/g)].map((m) => m[1]!)))];
const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);

export function TemplatesPage() {
  const { t } = useTranslation();
  const session = useSession();
  const list = useApi(() => unwrap(client.GET('/v1/templates')), []);
  const [draft, setDraft] = useState<Draft>();
  const edit = (tpl: Template) =>
    setDraft({ id: tpl.id, name: tpl.name, channel: tpl.channel ?? 'sms', body: tpl.body, ...(tpl.whatsapp ? { whatsapp: { ...tpl.whatsapp, parameters: tpl.whatsapp.parameters ?? [] } } : {}), ...(tpl.email ? { email: { subject: tpl.email.subject, html: tpl.email.html } } : {}) });
  return (
    <Stack>
      <PageTitle actions={session.can('PUT /v1/templates/{id}') && <Button onClick={() => setDraft({ ...blank })}>{t('templates.new')}</Button>}>{t('nav.templates')}</PageTitle>
      <ProblemAlert error={list.error} />
      <SimpleGrid cols={{ base: 1, lg: draft ? 2 : 1 }}>
        <div className="table-scroll" tabIndex={0}>
          <Table striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('fields.name')}</Table.Th>
                <Table.Th>{t('fields.channel')}</Table.Th>
                <Table.Th>{t('templates.variables')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(list.data?.items ?? []).map((tpl) => (
                <Table.Tr key={tpl.id}>
                  <Table.Td>
                    <Anchor component="button" type="button" onClick={() => edit(tpl)}>
                      {tpl.name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{t(`channels.${tpl.channel}`)}</Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      {tpl.variables.map((v) => (
                        <Badge key={v} variant="outline" color="dark" tt="none">
                          {v}
                        </Badge>
                      ))}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {list.data?.items.length === 0 && <Text mt="sm">{t('templates.empty')}</Text>}
        </div>
        {draft && <TemplateEditor key={draft.id || 'new'} initial={draft} onSaved={() => list.reload()} onClose={() => setDraft(undefined)} />}
      </SimpleGrid>
    </Stack>
  );
}

function TemplateEditor({ initial, onSaved, onClose }: { initial: Draft; onSaved(): void; onClose(): void }) {
  const { t } = useTranslation();
  const session = useSession();
  const readOnly = !session.can('PUT /v1/templates/{id}');
  const [draft, setDraft] = useState<Draft>(initial);
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const [customerQuery, setCustomerQuery] = useState('');
  const [customerId, setCustomerId] = useState<string | null>(null);
  const isNew = !initial.id;
  const set = (patch: Partial<Draft>) => {
    setSaved(false);
    setDraft({ ...draft, ...patch });
  };
  const customers = useApi(() => unwrap(client.GET('/v1/customers', { params: { query: { limit: 20, ...(customerQuery.trim().length >= 2 ? { q: customerQuery.trim() } : {}) } } })), [customerQuery]);
  const previewSource = draft.channel === 'email' ? (draft.email?.html ?? '') : draft.body;
  const [debounced] = useDebouncedValue(JSON.stringify({ text: previewSource, subject: draft.email?.subject, customerId }), 400);
  const preview = useApi(async () => {
    const { text, subject, customerId: id } = JSON.parse(debounced) as { text: string; subject?: string; customerId: string | null };
    if (!text) return undefined;
    const render = (value: string) => unwrap(client.POST('/v1/messages/preview', { body: { text: value, ...(id ? { customerId: id } : {}) } as Schemas['PreviewMessage'] }));
    return { body: await render(text), subject: subject ? (await render(subject)).text : undefined };
  }, [debounced]);
  useEffect(() => setError(undefined), [draft]);

  const variables = variablesIn(draft.body, draft.email?.subject ?? '', draft.email?.html ?? '', ...(draft.whatsapp?.parameters ?? []));
  const save = async () => {
    const id = draft.id || slug(draft.name);
    try {
      const body: Schemas['TemplateInput'] = {
        name: draft.name,
        channel: draft.channel,
        body: draft.body,
        ...(draft.channel === 'whatsapp' && draft.whatsapp?.name ? { whatsapp: { ...draft.whatsapp, parameters: draft.whatsapp.parameters.filter(Boolean) } } : {}),
        ...(draft.channel === 'email' && draft.email ? { email: draft.email } : {}),
      };
      await unwrap(client.PUT('/v1/templates/{id}', { params: { path: { id } }, body }));
      setDraft({ ...draft, id });
      setSaved(true);
      onSaved();
    } catch (e) {
      setError(e);
    }
  };
  const insert = (name: string) => set({ body: `${draft.body}{{${name}}}` });
  const wa = draft.whatsapp ?? { name: '', language: 'en', parameters: [] };
  return (
    <Card withBorder>
      <Stack>
        <Group justify="space-between">
          <Title order={2} size="h4">
            {isNew ? t('templates.new') : draft.name}
          </Title>
          <Button variant="default" size="xs" onClick={onClose}>
            {t('common.close')}
          </Button>
        </Group>
        <TextInput label={t('fields.name')} value={draft.name} onChange={(e) => set({ name: e.currentTarget.value })} disabled={readOnly} required />
        {isNew && <TextInput label={t('templates.id')} description={t('templates.idHint')} value={draft.id} placeholder={slug(draft.name)} onChange={(e) => set({ id: e.currentTarget.value })} />}
        <Select
          label={t('fields.channel')}
          data={(['sms', 'whatsapp', 'email', 'telegram'] as const).map((c) => ({ value: c, label: t(`channels.${c}`) }))}
          value={draft.channel}
          onChange={(c) => c && set({ channel: c as Draft['channel'] })}
          disabled={readOnly}
          allowDeselect={false}
        />
        <Textarea label={draft.channel === 'email' ? t('templates.plainBody') : t('templates.body')} value={draft.body} onChange={(e) => set({ body: e.currentTarget.value })} autosize minRows={3} disabled={readOnly} required />
        <div>
          <Text size="sm" fw={500}>
            {t('templates.variables')}
          </Text>
          <Group gap={4}>
            {['customer.name', 'customer.mobile', 'customer.id', 'customer.zone', 'customer.package', 'customer.expiresAt', 'operator.name', ...variables.filter((v) => !v.startsWith('customer.') && v !== 'operator.name')].map((v) => (
              <Button key={v} size="compact-xs" variant={variables.includes(v) ? 'filled' : 'outline'} radius="xl" onClick={() => insert(v)} disabled={readOnly} tt="none">
                {v}
              </Button>
            ))}
          </Group>
        </div>
        {draft.channel === 'whatsapp' && (
          <Card withBorder bg="gray.0">
            <Stack gap="xs">
              <Text fw={600}>{t('templates.whatsappMapping')}</Text>
              <Text size="sm">{t('templates.whatsappHint')}</Text>
              <SimpleGrid cols={2}>
                <TextInput label={t('templates.waName')} value={wa.name} onChange={(e) => set({ whatsapp: { ...wa, name: e.currentTarget.value } })} disabled={readOnly} />
                <TextInput label={t('templates.waLanguage')} value={wa.language} onChange={(e) => set({ whatsapp: { ...wa, language: e.currentTarget.value } })} disabled={readOnly} />
              </SimpleGrid>
              {wa.parameters.map((p, i) => (
                <TextInput
                  key={i}
                  label={t('templates.waParameter', { n: i + 1 })}
                  value={p}
                  onChange={(e) => set({ whatsapp: { ...wa, parameters: wa.parameters.map((q, j) => (j === i ? e.currentTarget.value : q)) } })}
                  disabled={readOnly}
                />
              ))}
              {!readOnly && (
                <Button size="xs" variant="default" w="fit-content" onClick={() => set({ whatsapp: { ...wa, parameters: [...wa.parameters, ''] } })}>
                  {t('templates.addParameter')}
                </Button>
              )}
            </Stack>
          </Card>
        )}
        {draft.channel === 'email' && (
          <>
            <TextInput label={t('templates.subject')} value={draft.email?.subject ?? ''} onChange={(e) => set({ email: { html: draft.email?.html ?? '', subject: e.currentTarget.value } })} disabled={readOnly} />
            <Textarea
              label={t('templates.html')}
              value={draft.email?.html ?? ''}
              onChange={(e) => set({ email: { subject: draft.email?.subject ?? '', html: e.currentTarget.value } })}
              autosize
              minRows={5}
              styles={{ input: { fontFamily: 'monospace' } }}
              disabled={readOnly}
            />
          </>
        )}
        <Select
          label={t('templates.previewFor')}
          searchable
          clearable
          onSearchChange={setCustomerQuery}
          data={(customers.data?.items ?? []).map((c) => ({ value: c.id, label: `${c.name} (${c.id})` }))}
          value={customerId}
          onChange={setCustomerId}
        />
        <ProblemAlert error={preview.error} />
        {preview.data && (
          <Card withBorder data-testid="template-preview">
            {preview.data.subject && <Text fw={600}>{preview.data.subject}</Text>}
            {draft.channel === 'email' ? (
              <iframe title={t('templates.htmlPreview')} sandbox="" srcDoc={preview.data.body.text} style={{ width: '100%', minHeight: 200, border: 0 }} />
            ) : (
              <Text style={{ whiteSpace: 'pre-wrap' }}>{preview.data.body.text}</Text>
            )}
            {draft.channel !== 'email' && (
              <Text size="xs" mt="xs">
                {preview.data.body.encoding} · {t('send.segments', { count: preview.data.body.segments })}
              </Text>
            )}
          </Card>
        )}
        <ProblemAlert error={error} />
        {saved && <Text c="green.9" role="status">{t('common.saved')}</Text>}
        {!readOnly && (
          <Button onClick={save} disabled={!draft.name || !draft.body} w="fit-content">
            {t('common.save')}
          </Button>
        )}
      </Stack>
    </Card>
  );
}
