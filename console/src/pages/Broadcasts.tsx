import { Anchor, Button, Card, Group, MultiSelect, NumberInput, Progress, SegmentedControl, Select, SimpleGrid, Stack, Table, TagsInput, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Route, Routes, useNavigate, useParams } from 'react-router';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { call, client, unwrap } from '../api/client';
import { useSession } from '../api/session';
import { useApi, useInterval } from '../api/use-api';
import { PageTitle } from '../components/PageTitle';
import { NotAvailable, ProblemAlert, isMissingRoute } from '../components/ProblemAlert';
import { StatusBadge } from '../components/StatusBadge';
import { useFormat } from '../format';
import type { BroadcastInput, BroadcastPlan, BroadcastReport, BroadcastView } from './types';

export function BroadcastsPage() {
  return (
    <Routes>
      <Route index element={<BroadcastList />} />
      <Route path="new" element={<BroadcastBuilder />} />
      <Route path=":id" element={<BroadcastDetail />} />
    </Routes>
  );
}

function BroadcastList() {
  const { t } = useTranslation();
  const format = useFormat();
  const session = useSession();
  const list = useApi(() => call<{ items: BroadcastView[]; cursor?: string }>('GET', '/v1/broadcasts?limit=25'), []);
  useInterval(list.reload, 3000, Boolean(list.data?.items.some((b) => b.state === 'sending' || b.state === 'planning')));
  if (isMissingRoute(list.error)) {
    return (
      <Stack>
        <PageTitle>{t('nav.broadcasts')}</PageTitle>
        <NotAvailable feature={t('nav.broadcasts')} />
      </Stack>
    );
  }
  return (
    <Stack>
      <PageTitle actions={session.can('POST /v1/broadcasts') && <Button component={Link} to="new">{t('broadcasts.new')}</Button>}>{t('nav.broadcasts')}</PageTitle>
      <ProblemAlert error={list.error} />
      <div className="table-scroll" tabIndex={0}>
        <Table striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('fields.name')}</Table.Th>
              <Table.Th>{t('broadcasts.kind')}</Table.Th>
              <Table.Th>{t('fields.status')}</Table.Th>
              <Table.Th>{t('broadcasts.recipients')}</Table.Th>
              <Table.Th>{t('broadcasts.progress')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(list.data?.items ?? []).map((b) => (
              <Table.Tr key={b.id}>
                <Table.Td>
                  <Anchor component={Link} to={b.id}>
                    {b.name ?? b.id}
                  </Anchor>
                </Table.Td>
                <Table.Td>{t(`broadcasts.kinds.${b.kind ?? 'broadcast'}`)}</Table.Td>
                <Table.Td>
                  <StatusBadge status={b.state} />
                </Table.Td>
                <Table.Td>{b.recipients !== undefined ? format.number(b.recipients) : '—'}</Table.Td>
                <Table.Td miw={120}>
                  <Progress value={b.percentDone ?? 0} aria-label={t('broadcasts.progress')} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </div>
      {list.data?.items.length === 0 && <Text>{t('broadcasts.empty')}</Text>}
    </Stack>
  );
}

function BroadcastBuilder() {
  const { t } = useTranslation();
  const format = useFormat();
  const navigate = useNavigate();
  const templates = useApi(() => unwrap(client.GET('/v1/templates')), []);
  const [input, setInput] = useState<BroadcastInput>({ name: '', kind: 'broadcast', filter: {}, channel: 'auto', category: 'transactional', text: '' });
  const [mode, setMode] = useState<'text' | 'template'>('text');
  const [when, setWhen] = useState('');
  const [maxCost, setMaxCost] = useState<number | string>('');
  const [plan, setPlan] = useState<BroadcastPlan>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<BroadcastInput>) => {
    setPlan(undefined);
    setInput({ ...input, ...patch });
  };
  const setFilter = (patch: Partial<BroadcastInput['filter']>) => set({ filter: { ...input.filter, ...patch } });
  const body = (dryRun: boolean): BroadcastInput => {
    const { text, templateId, ...rest } = input;
    const currency = plan?.cost.currency ?? 'BDT';
    return {
      ...rest,
      ...(mode === 'text' ? { text } : { templateId }),
      ...(input.name ? {} : { name: undefined }),
      ...(when ? { sendAt: new Date(when).toISOString() } : {}),
      ...(typeof maxCost === 'number' ? { maxCost: Math.round(maxCost * format.minorUnits(currency)) } : {}),
      dryRun,
    };
  };
  const submit = async (dryRun: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const reply = await call<BroadcastPlan>('POST', '/v1/broadcasts', body(dryRun));
      if (dryRun) setPlan(reply);
      else navigate(`/broadcasts/${reply.id}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const list = (values: string[] | undefined) => values ?? [];
  return (
    <Stack>
      <PageTitle actions={<Anchor component={Link} to="/broadcasts">{t('history.back')}</Anchor>}>{t('broadcasts.new')}</PageTitle>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder>
          <Stack>
            <TextInput label={t('fields.name')} value={input.name} onChange={(e) => set({ name: e.currentTarget.value })} />
            <SegmentedControl
              aria-label={t('broadcasts.kind')}
              value={input.kind}
              onChange={(v) => set({ kind: v as BroadcastInput['kind'] })}
              data={(['broadcast', 'payment_link'] as const).map((k) => ({ value: k, label: t(`broadcasts.kinds.${k}`) }))}
            />
            <Title order={2} size="h5">
              {t('broadcasts.audience')}
            </Title>
            <MultiSelect
              label={t('broadcasts.customerStatus')}
              data={['active', 'suspended', 'billed', 'expired'].map((s) => ({ value: s, label: t(`customerStatus.${s}`) }))}
              value={list(input.filter.status)}
              onChange={(v) => setFilter({ status: v.length ? v : undefined })}
            />
            <TagsInput label={t('broadcasts.zones')} value={list(input.filter.zone)} onChange={(v) => setFilter({ zone: v.length ? v : undefined })} />
            <TagsInput label={t('broadcasts.packages')} value={list(input.filter.package)} onChange={(v) => setFilter({ package: v.length ? v : undefined })} />
            <TagsInput label={t('broadcasts.resellers')} value={list(input.filter.resellerId)} onChange={(v) => setFilter({ resellerId: v.length ? v : undefined })} />
            <NumberInput label={t('broadcasts.overdueDays')} value={input.filter.overdueDays ?? ''} min={0} onChange={(v) => setFilter({ overdueDays: typeof v === 'number' ? v : undefined })} />
            <Title order={2} size="h5">
              {t('broadcasts.message')}
            </Title>
            <Select
              label={t('fields.channel')}
              data={(['auto', 'sms', 'whatsapp', 'email'] as const).map((c) => ({ value: c, label: t(`channels.${c}`) }))}
              value={input.channel}
              onChange={(v) => v && set({ channel: v as BroadcastInput['channel'] })}
              allowDeselect={false}
            />
            <Select
              label={t('broadcasts.category')}
              data={(['transactional', 'marketing'] as const).map((c) => ({ value: c, label: t(`broadcasts.categories.${c}`) }))}
              value={input.category}
              onChange={(v) => v && set({ category: v as BroadcastInput['category'] })}
              allowDeselect={false}
            />
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
              <Textarea label={t('send.text')} description={t('broadcasts.textHint', { nameVar: '{{customer.name}}', linkVar: '{{link}}' })} value={input.text ?? ''} onChange={(e) => set({ text: e.currentTarget.value })} autosize minRows={3} />
            ) : (
              <Select label={t('send.template')} data={(templates.data?.items ?? []).map((tpl) => ({ value: tpl.id, label: tpl.name }))} value={input.templateId ?? null} onChange={(v) => set({ templateId: v ?? undefined })} />
            )}
            {input.channel === 'email' && <TextInput label={t('templates.subject')} value={input.subject ?? ''} onChange={(e) => set({ subject: e.currentTarget.value || undefined })} />}
            <TextInput type="datetime-local" label={t('broadcasts.sendAt')} description={t('broadcasts.sendAtHint')} value={when} onChange={(e) => setWhen(e.currentTarget.value)} />
            <NumberInput label={t('broadcasts.maxCost')} description={t('broadcasts.maxCostHint')} value={maxCost} onChange={setMaxCost} min={0} decimalScale={2} />
            <Group>
              <Button variant="default" onClick={() => submit(true)} loading={busy}>
                {t('broadcasts.estimate')}
              </Button>
              <Button onClick={() => submit(false)} loading={busy} disabled={!plan}>
                {when ? t('broadcasts.schedule') : t('broadcasts.send')}
              </Button>
            </Group>
            {!plan && <Text size="sm">{t('broadcasts.estimateFirst')}</Text>}
          </Stack>
        </Card>
        <Stack>
          {isMissingRoute(error) ? <NotAvailable feature={t('nav.broadcasts')} /> : <ProblemAlert error={error} />}
          {plan && (
            <Card withBorder data-testid="broadcast-plan">
              <Title order={2} size="h4" mb="xs">
                {t('broadcasts.estimateTitle')}
              </Title>
              <Text>{t('broadcasts.planLine', { recipients: format.number(plan.recipients), segments: format.number(plan.segments), cost: format.money(plan.cost.amount, plan.cost.currency) })}</Text>
              <Table mt="xs">
                <Table.Tbody>
                  {Object.entries(plan.byChannel).map(([channel, v]) => (
                    <Table.Tr key={channel}>
                      <Table.Td>{t(`channels.${channel}`)}</Table.Td>
                      <Table.Td>{format.number(v!.recipients)}</Table.Td>
                      <Table.Td>{t('send.segments', { count: v!.segments })}</Table.Td>
                      <Table.Td>{format.money(v!.cost.amount, v!.cost.currency)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              {plan.samples && plan.samples.length > 0 && (
                <>
                  <Title order={3} size="h5" mt="sm">
                    {t('broadcasts.samples')}
                  </Title>
                  {plan.samples.map((s) => (
                    <Card key={s.customerId} withBorder mt="xs" p="xs">
                      <Text size="xs">
                        {t(`channels.${s.channel}`)} → {s.to}
                      </Text>
                      <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
                        {s.text}
                      </Text>
                    </Card>
                  ))}
                </>
              )}
            </Card>
          )}
        </Stack>
      </SimpleGrid>
    </Stack>
  );
}

function BroadcastDetail() {
  const { t } = useTranslation();
  const format = useFormat();
  const session = useSession();
  const { id = '' } = useParams();
  const broadcast = useApi(() => call<BroadcastView>('GET', `/v1/broadcasts/${encodeURIComponent(id)}`), [id]);
  const b = broadcast.data;
  const running = Boolean(b && ['scheduled', 'planning', 'sending'].includes(b.state));
  useInterval(broadcast.reload, 1500, running);
  const report = useApi(
    () => (b?.kind === 'payment_link' ? call<BroadcastReport>('GET', `/v1/broadcasts/${encodeURIComponent(id)}/report`) : Promise.resolve(undefined)),
    [id, b?.kind, b?.state],
  );
  const [error, setError] = useState<unknown>();
  const cancel = async () => {
    try {
      await call('POST', `/v1/broadcasts/${encodeURIComponent(id)}/cancel`);
      broadcast.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <Stack>
      <PageTitle actions={<Anchor component={Link} to="/broadcasts">{t('history.back')}</Anchor>}>{b?.name ?? t('nav.broadcasts')}</PageTitle>
      {isMissingRoute(broadcast.error) ? <NotAvailable feature={t('nav.broadcasts')} /> : <ProblemAlert error={broadcast.error ?? error} />}
      {b && (
        <Card withBorder>
          <Stack>
            <Group justify="space-between">
              <StatusBadge status={b.state} />
              {running && session.can('POST /v1/broadcasts/{id}/cancel') && (
                <Button color="red.9" variant="outline" onClick={cancel}>
                  {t('broadcasts.cancel')}
                </Button>
              )}
            </Group>
            <Progress.Root size="xl" aria-label={t('broadcasts.progress')}>
              <Progress.Section value={b.percentDone ?? 0} data-testid="broadcast-progress" data-value={b.percentDone ?? 0}>
                <Progress.Label>{format.percent((b.percentDone ?? 0) / 100)}</Progress.Label>
              </Progress.Section>
            </Progress.Root>
            <SimpleGrid cols={{ base: 2, sm: 3, md: 6 }}>
              {(['queued', 'sent', 'delivered', 'read', 'failed', 'cancelled'] as const).map((s) => (
                <div key={s}>
                  <Text size="xs">{t(`status.${s}`)}</Text>
                  <Text fw={700}>{format.number(b.counts?.[s] ?? 0)}</Text>
                </div>
              ))}
            </SimpleGrid>
            <Text size="sm">
              {b.recipients !== undefined && t('broadcasts.recipientsCount', { count: b.recipients, formatted: format.number(b.recipients) })}
              {b.spent && ` · ${t('broadcasts.spent', { amount: format.money(b.spent.amount, b.spent.currency) })}`}
              {b.ratePerSecond && ` · ${t('broadcasts.rate', { now: format.number(b.ratePerSecond.now), average: format.number(b.ratePerSecond.average) })}`}
            </Text>
            {b.startedAt && <Text size="sm">{t('broadcasts.started', { at: format.dateTime(b.startedAt) })}</Text>}
            {b.finishedAt && <Text size="sm">{t('broadcasts.finished', { at: format.dateTime(b.finishedAt) })}</Text>}
            {b.skipped && Object.keys(b.skipped).length > 0 && (
              <Text size="sm">
                {t('broadcasts.skipped')}: {Object.entries(b.skipped).map(([k, v]) => `${k} ${format.number(v)}`).join(', ')}
              </Text>
            )}
          </Stack>
        </Card>
      )}
      {report.data && <CollectionReport report={report.data} />}
    </Stack>
  );
}

function CollectionReport({ report }: { report: BroadcastReport }) {
  const { t } = useTranslation();
  const format = useFormat();
  const figures: Array<[string, string]> = [
    ['recipients', format.number(report.recipients)],
    ['delivered', format.number(report.delivered)],
    ['clicked', format.number(report.clicked)],
    ['paid', format.number(report.paid)],
    ['collected', format.money(report.collected.amount, report.collected.currency)],
    ['conversionRate', format.percent(report.conversionRate)],
  ];
  const data = report.byZone.map((z) => ({ zone: z.zone, clicked: z.clicked, paid: z.paid }));
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="sm">
        {t('broadcasts.report')}
      </Title>
      <SimpleGrid cols={{ base: 2, md: 6 }}>
        {figures.map(([k, v]) => (
          <div key={k}>
            <Text size="xs">{t(`broadcasts.figures.${k}`)}</Text>
            <Text fw={700}>{v}</Text>
          </div>
        ))}
      </SimpleGrid>
      {report.medianMinutesToPay != null && <Text size="sm" mt="xs">{t('broadcasts.medianToPay', { minutes: format.number(report.medianMinutesToPay) })}</Text>}
      {data.length > 0 && (
        <div style={{ width: '100%', height: 260 }} role="img" aria-label={t('broadcasts.report')}>
          <ResponsiveContainer>
            <BarChart data={data}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="zone" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Legend />
              <Bar dataKey="clicked" name={t('broadcasts.figures.clicked')} fill="#1971c2" />
              <Bar dataKey="paid" name={t('broadcasts.figures.paid')} fill="#2b8a3e" />
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
    </Card>
  );
}
