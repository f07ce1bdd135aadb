import { Autocomplete, Badge, Button, Card, Group, SegmentedControl, Select, SimpleGrid, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { client, unwrap, type Schemas } from '../api/client';
import { useSession } from '../api/session';
import { useApi, useInterval } from '../api/use-api';
import { MessageCard } from '../components/MessageTimeline';
import { PageTitle } from '../components/PageTitle';
import { ProblemAlert } from '../components/ProblemAlert';
import { StatusBadge } from '../components/StatusBadge';
import { useFormat } from '../format';

type Channel = 'auto' | 'sms' | 'whatsapp' | 'email';
const FINAL = ['delivered', 'read', 'failed', 'cancelled'];
/** Variables the API fills in itself (customer.*, operator.name). */
const builtIn = (name: string) => name.startsWith('customer.') || name.startsWith('operator.');

export function SendPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const session = useSession();
  const [query, setQuery] = useState('');
  const [debouncedQuery] = useDebouncedValue(query, 300);
  const [customer, setCustomer] = useState<Schemas['Customer']>();
  const [channel, setChannel] = useState<Channel>('auto');
  const [mode, setMode] = useState<'text' | 'template'>('text');
  const [text, setText] = useState('');
  const [subject, setSubject] = useState('');
  const [templateId, setTemplateId] = useState<string | null>(null);
  const [variables, setVariables] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [sending, setSending] = useState(false);
  const [sent, setSent] = useState<Schemas['Message']>();

  const search = useApi(
    () => (debouncedQuery.trim().length >= 2 ? unwrap(client.GET('/v1/customers', { params: { query: { q: debouncedQuery.trim(), limit: 10 } } })) : Promise.resolve({ items: [] })),
    [debouncedQuery],
  );
  const templates = useApi(() => (session.can('GET /v1/templates') ? unwrap(client.GET('/v1/templates')) : Promise.resolve({ items: [] })), []);
  const gateways = useApi(() => (session.can('GET /v1/gateways') ? unwrap(client.GET('/v1/gateways')) : Promise.resolve(undefined)), []);
  const template = templates.data?.items.find((tpl) => tpl.id === templateId);

  const label = (c: Schemas['Customer']) => `${c.name} · ${c.mobile} · ${c.id}`;
  const options = (search.data?.items ?? []).map(label);
  const onQuery = (value: string) => {
    setQuery(value);
    setCustomer(search.data?.items.find((c) => label(c) === value));
  };
  // A typed number or address, when no customer was picked.
  const typed = customer ? undefined : query.trim();

  // Which channel "auto" takes: the API's rule (WhatsApp when an enabled WhatsApp gateway exists and the customer has a number for it).
  const autoChannel = useMemo(() => {
    const hasWhatsApp = gateways.data?.items.some((g) => g.channel === 'whatsapp' && g.enabled);
    if (hasWhatsApp === undefined) return undefined;
    const number = customer?.whatsapp ?? (session.settings?.routing.whatsappUsesMobile ? (customer?.mobile ?? typed) : undefined);
    return hasWhatsApp && number ? 'whatsapp' : 'sms';
  }, [gateways.data, customer, typed, session.settings]);

  const content = mode === 'text' ? (text ? { text } : undefined) : templateId ? { templateId, variables } : undefined;
  const [debouncedContent] = useDebouncedValue(JSON.stringify({ content, customerId: customer?.id }), 300);
  const preview = useApi(() => {
    const { content: c, customerId } = JSON.parse(debouncedContent) as { content?: Record<string, unknown>; customerId?: string };
    if (!c) return Promise.resolve(undefined);
    return unwrap(client.POST('/v1/messages/preview', { body: { ...(customerId ? { customerId } : {}), ...c } as Schemas['PreviewMessage'] }));
  }, [debouncedContent]);

  const poll = async () => {
    if (!sent) return;
    try {
      setSent(await unwrap(client.GET('/v1/messages/{id}', { params: { path: { id: sent.id } } })));
    } catch (e) {
      setError(e);
    }
  };
  useInterval(poll, 1000, Boolean(sent && !FINAL.includes(sent.status)));

  useEffect(() => setVariables({}), [templateId]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!content) return;
    setSending(true);
    setError(undefined);
    setSent(undefined);
    try {
      const to = customer ? { customerId: customer.id } : channel === 'email' ? { email: typed } : { mobile: typed };
      const body = { ...to, channel, ...content, ...(mode === 'text' && channel === 'email' && subject ? { subject } : {}) } as Schemas['SendMessage'];
      setSent(await unwrap(client.POST('/v1/messages', { body, params: { header: { 'Idempotency-Key': crypto.randomUUID() } } })));
    } catch (e) {
      setError(e);
    } finally {
      setSending(false);
    }
  };

  const templateOptions = (templates.data?.items ?? [])
    .filter((tpl) => channel === 'auto' || tpl.channel === channel || (channel === 'sms' && tpl.channel === 'sms'))
    .map((tpl) => ({ value: tpl.id, label: `${tpl.name} (${t(`channels.${tpl.channel}`)})` }));
  const canSend = Boolean(content && (customer || typed)) && session.can('POST /v1/messages');

  return (
    <Stack>
      <PageTitle>{t('nav.send')}</PageTitle>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder component="form" onSubmit={submit}>
          <Stack>
            <Autocomplete
              label={t('send.to')}
              description={t('send.toHint')}
              value={query}
              onChange={onQuery}
              data={options}
              filter={({ options: all }) => all}
              name="to"
            />
            {customer && (
              <Text size="sm" data-testid="picked-customer">
                {t('send.picked', { name: customer.name, mobile: customer.mobile })}
              </Text>
            )}
            <div>
              <Text size="sm" fw={500} id="channel-label">
                {t('fields.channel')}
              </Text>
              <SegmentedControl
                aria-labelledby="channel-label"
                value={channel}
                onChange={(v) => setChannel(v as Channel)}
                data={(['auto', 'sms', 'whatsapp', 'email'] as const).map((c) => ({ value: c, label: t(`channels.${c}`) }))}
                fullWidth
              />
              {channel === 'auto' && autoChannel && (
                <Text size="sm" mt={4} data-testid="auto-channel">
                  {t('send.autoWillUse', { channel: t(`channels.${autoChannel}`) })}
                </Text>
              )}
            </div>
            <SegmentedControl
              aria-label={t('send.content')}
              value={mode}
              onChange={(v) => setMode(v as 'text' | 'template')}
              data={[
                { value: 'text', label: t('send.text') },
                { value: 'template', label: t('send.template') },
              ]}
            />
            {mode === 'text' ? (
              <>
                {channel === 'email' && <TextInput label={t('templates.subject')} value={subject} onChange={(e) => setSubject(e.currentTarget.value)} />}
                <Textarea label={t('send.text')} name="text" value={text} onChange={(e) => setText(e.currentTarget.value)} autosize minRows={4} />
              </>
            ) : (
              <>
                <Select label={t('send.template')} data={templateOptions} value={templateId} onChange={setTemplateId} searchable nothingFoundMessage={t('common.none')} />
                {template?.variables.filter((v) => !builtIn(v)).map((name) => (
                  <TextInput key={name} label={name} value={variables[name] ?? ''} onChange={(e) => setVariables({ ...variables, [name]: e.currentTarget.value })} />
                ))}
              </>
            )}
            <ProblemAlert error={error} />
            {session.can('POST /v1/messages') && (
              <Button type="submit" loading={sending} disabled={!canSend}>
                {t('send.submit')}
              </Button>
            )}
          </Stack>
        </Card>
        <Stack>
          <Card withBorder>
            <Title order={2} size="h4" mb="xs">
              {t('send.preview')}
            </Title>
            <ProblemAlert error={preview.error} />
            {preview.data ? (
              <Stack gap="xs" data-testid="preview">
                <Text style={{ whiteSpace: 'pre-wrap' }}>{preview.data.text}</Text>
                <Group gap="xs">
                  <Badge variant="outline" color="dark">{preview.data.encoding}</Badge>
                  <Badge variant="outline" color="dark">{t('send.characters', { count: preview.data.characters })}</Badge>
                  <Badge variant="outline" color="dark" data-testid="segments">
                    {t('send.segments', { count: preview.data.segments })}
                  </Badge>
                  {preview.data.cost && (
                    <Badge variant="outline" color="dark">
                      {t('send.smsCost', { cost: format.money(preview.data.cost.amount, preview.data.cost.currency) })}
                    </Badge>
                  )}
                </Group>
                {preview.data.segments > preview.data.maxSegments && <Text c="red.9">{t('send.tooLong', { max: preview.data.maxSegments })}</Text>}
              </Stack>
            ) : (
              <Text size="sm">{t('send.previewHint')}</Text>
            )}
          </Card>
          {sent && (
            <>
              <Group data-testid="sent-status">
                <Text>{t('send.status')}</Text>
                <StatusBadge status={sent.status} />
              </Group>
              <MessageCard message={sent} />
            </>
          )}
        </Stack>
      </SimpleGrid>
    </Stack>
  );
}
