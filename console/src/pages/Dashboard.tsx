import { Alert, Card, Group, Progress, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { BarChart, Bar, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { call, client, unwrap, type Schemas } from '../api/client';
import { useSession } from '../api/session';
import { useApi, useInterval } from '../api/use-api';
import { ProblemAlert, isMissingRoute } from '../components/ProblemAlert';
import { PageTitle } from '../components/PageTitle';
import { startsInZone, useFormat } from '../format';
import type { Balance, BroadcastView, Usage } from './types';

/** Pages of history read for the counts at most (100 messages each): enough for a dashboard glance. */
const MAX_PAGES = 20;

async function messagesSince(from: string): Promise<{ items: Schemas['Message'][]; complete: boolean }> {
  const items: Schemas['Message'][] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const reply = await unwrap(client.GET('/v1/messages', { params: { query: { from, limit: 100, direction: 'out', ...(cursor ? { cursor } : {}) } } }));
    items.push(...reply.items);
    cursor = reply.cursor;
    if (!cursor) return { items, complete: true };
  }
  return { items, complete: false };
}

export function DashboardPage() {
  const { t } = useTranslation();
  const session = useSession();
  return (
    <Stack>
      <PageTitle>{t('nav.dashboard')}</PageTitle>
      <BalanceCard />
      {session.can('GET /v1/messages') && <MessageCounts />}
      <SpendChart />
      {session.can('GET /v1/broadcasts') && <BroadcastsInProgress />}
      {session.can('GET /v1/gateways') && <OpenCircuits />}
    </Stack>
  );
}

export function BalanceCard() {
  const { t } = useTranslation();
  const format = useFormat();
  const balance = useApi(() => call<Balance>('GET', '/v1/billing/balance'), []);
  const b = balance.data;
  const low = b && (b.available <= 0 || (b.lowBalanceThreshold !== null && b.available <= b.lowBalanceThreshold));
  return (
    <Card withBorder>
      <Title order={2} size="h4">
        {t('dashboard.balance')}
      </Title>
      <ProblemAlert error={balance.error} />
      {b && (
        <>
          <Text size="xl" fw={700} data-testid="available">
            {format.money(b.available, b.currency)}
          </Text>
          <Text size="sm">
            {t('dashboard.balanceDetail', { balance: format.money(b.balance, b.currency), reserved: format.money(b.reserved, b.currency), billing: t(`billing.${b.billing}`) })}
          </Text>
          {low && (
            <Alert color="orange" mt="sm" title={t('dashboard.lowBalance')} role="alert">
              {t('dashboard.lowBalanceHint')} <Link to="/billing">{t('problem.topUp')}</Link>
            </Alert>
          )}
        </>
      )}
    </Card>
  );
}

function MessageCounts() {
  const { t } = useTranslation();
  const format = useFormat();
  const session = useSession();
  const zone = session.settings?.timezone ?? 'UTC';
  const month = useApi(() => messagesSince(startsInZone(zone).month), [zone]);
  const today = startsInZone(zone).today;
  const rows = month.data?.items ?? [];
  const count = (items: Schemas['Message'][]) => {
    const byChannel = new Map<string, Record<string, number>>();
    for (const m of items) {
      const row = byChannel.get(m.channel) ?? {};
      row[m.status] = (row[m.status] ?? 0) + 1;
      byChannel.set(m.channel, row);
    }
    return byChannel;
  };
  const statuses = ['queued', 'sent', 'delivered', 'read', 'failed'] as const;
  const finished = rows.filter((m) => m.status !== 'queued' && m.status !== 'cancelled');
  const delivered = finished.filter((m) => m.status === 'delivered' || m.status === 'read');
  const table = (title: string, items: Schemas['Message'][]) => (
    <Card withBorder key={title}>
      <Title order={3} size="h5">
        {title} · {format.number(items.length)}
        {!month.data?.complete && '+'}
      </Title>
      <div className="table-scroll" tabIndex={0}>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('fields.channel')}</Table.Th>
              {statuses.map((s) => (
                <Table.Th key={s}>{t(`status.${s}`)}</Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {[...count(items)].map(([channel, row]) => (
              <Table.Tr key={channel}>
                <Table.Td>{t(`channels.${channel}`)}</Table.Td>
                {statuses.map((s) => (
                  <Table.Td key={s}>{format.number(row[s] ?? 0)}</Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </div>
    </Card>
  );
  return (
    <Stack>
      <ProblemAlert error={month.error} />
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        {table(t('dashboard.today'), rows.filter((m) => m.createdAt >= today))}
        {table(t('dashboard.thisMonth'), rows)}
      </SimpleGrid>
      <Card withBorder>
        <Group justify="space-between">
          <Text fw={600}>{t('dashboard.deliveryRate')}</Text>
          <Text fw={700} data-testid="delivery-rate">
            {finished.length > 0 ? format.percent(delivered.length / finished.length) : '—'}
          </Text>
        </Group>
        <Progress value={finished.length > 0 ? (100 * delivered.length) / finished.length : 0} color="green.9" aria-label={t('dashboard.deliveryRate')} mt="xs" />
      </Card>
    </Stack>
  );
}

export function SpendChart({ days = 30 }: { days?: number }) {
  const { t } = useTranslation();
  const format = useFormat();
  const usage = useApi(() => {
    const to = new Date();
    const from = new Date(to.getTime() - days * 86_400_000);
    return call<Usage>('GET', `/v1/billing/usage?groupBy=day&from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`);
  }, [days]);
  const currency = usage.data?.currency ?? 'BDT';
  const unit = format.minorUnits(currency);
  const data = (usage.data?.items ?? []).map((item) => ({ day: format.day(item.key), spend: item.spend / unit, messages: item.messages }));
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="sm">
        {t('dashboard.spendPerDay')}
      </Title>
      <ProblemAlert error={usage.error} />
      {data.length === 0 && !usage.loading ? (
        <Text size="sm">{t('dashboard.noSpend')}</Text>
      ) : (
        <div style={{ width: '100%', height: 240 }} role="img" aria-label={t('dashboard.spendPerDay')}>
          <ResponsiveContainer>
            <BarChart data={data}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="day" />
              <YAxis />
              <Tooltip formatter={(value) => format.money(Number(value) * unit, currency)} />
              <Bar dataKey="spend" name={t('dashboard.spend')} fill="#1971c2" />
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
    </Card>
  );
}

function BroadcastsInProgress() {
  const { t } = useTranslation();
  const list = useApi(() => call<{ items: BroadcastView[] }>('GET', '/v1/broadcasts?limit=20'), []);
  const running = (list.data?.items ?? []).filter((b) => b.state === 'sending' || b.state === 'planning');
  useInterval(list.reload, 3000, running.length > 0);
  if (isMissingRoute(list.error)) return null;
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="sm">
        {t('dashboard.broadcastsInProgress')}
      </Title>
      <ProblemAlert error={list.error} />
      {running.length === 0 && <Text size="sm">{t('dashboard.noBroadcasts')}</Text>}
      {running.map((b) => (
        <div key={b.id}>
          <Text size="sm">
            <Link to={`/broadcasts/${b.id}`}>{b.name ?? b.id}</Link>
          </Text>
          <Progress value={b.percentDone ?? 0} aria-label={b.name ?? b.id} />
        </div>
      ))}
    </Card>
  );
}

function OpenCircuits() {
  const { t } = useTranslation();
  const format = useFormat();
  const gateways = useApi(() => unwrap(client.GET('/v1/gateways')), []);
  const open = (gateways.data?.items ?? []).filter((g) => g.circuitOpenUntil && g.circuitOpenUntil > new Date().toISOString());
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="sm">
        {t('dashboard.openCircuits')}
      </Title>
      <ProblemAlert error={gateways.error} />
      {open.length === 0 ? (
        <Text size="sm">{t('dashboard.noOpenCircuits')}</Text>
      ) : (
        open.map((g) => (
          <Alert key={g.id} color="red" title={g.name}>
            {t('dashboard.circuitOpenUntil', { until: format.dateTime(g.circuitOpenUntil!) })}
          </Alert>
        ))
      )}
    </Card>
  );
}
