import { Anchor, Button, Card, Group, NumberInput, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call } from '../api/client';
import { useSession } from '../api/session';
import { useApi } from '../api/use-api';
import { PageTitle } from '../components/PageTitle';
import { ProblemAlert } from '../components/ProblemAlert';
import { useFormat } from '../format';
import { BalanceCard, SpendChart } from './Dashboard';
import type { Balance, Checkout, LedgerEntry, OperatorBill } from './types';

/** Saves a blob under a name (the CSV export) or opens it in a new tab (a PDF). */
function deliver(blob: Blob, name?: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  if (name) a.download = name;
  else a.target = '_blank';
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function BillingPage() {
  const { t } = useTranslation();
  return (
    <Stack>
      <PageTitle>{t('nav.billing')}</PageTitle>
      <BalanceCard />
      <TopUp />
      <SpendChart days={60} />
      <Bills />
      <Ledger />
    </Stack>
  );
}

function TopUp() {
  const { t } = useTranslation();
  const format = useFormat();
  const session = useSession();
  const balance = useApi(() => call<Balance>('GET', '/v1/billing/balance'), []);
  const [amount, setAmount] = useState<number | string>(500);
  const [error, setError] = useState<unknown>();
  const [checkout, setCheckout] = useState<Checkout>();
  if (!session.can('POST /v1/billing/topups/checkout') || !balance.data) return null;
  const currency = balance.data.currency;
  const start = async () => {
    setError(undefined);
    try {
      const minor = Math.round(Number(amount) * format.minorUnits(currency));
      const reply = await call<Checkout>('POST', '/v1/billing/topups/checkout', { amount: minor });
      setCheckout(reply);
      window.open(reply.url, '_blank', 'noopener');
    } catch (e) {
      setError(e);
    }
  };
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="sm">
        {t('billing.topUp')}
      </Title>
      <Group align="end">
        <NumberInput label={t('billing.amount', { currency })} value={amount} onChange={setAmount} min={1} decimalScale={2} />
        <Button onClick={start} disabled={!(Number(amount) > 0)}>
          {t('billing.pay')}
        </Button>
      </Group>
      <ProblemAlert error={error} />
      {checkout && (
        <Text size="sm" mt="sm">
          {t('billing.checkoutOpened', { amount: format.money(checkout.amount, checkout.currency) })}{' '}
          <Anchor href={checkout.url} target="_blank" rel="noopener">
            {checkout.url}
          </Anchor>
        </Text>
      )}
    </Card>
  );
}

function Bills() {
  const { t } = useTranslation();
  const format = useFormat();
  const session = useSession();
  const bills = useApi(() => call<{ items: OperatorBill[] }>('GET', '/v1/billing/bills?limit=24'), []);
  const [error, setError] = useState<unknown>();
  const pdf = async (id: string) => {
    try {
      deliver(await call<Blob>('GET', `/v1/billing/bills/${id}`, undefined, 'application/pdf'));
    } catch (e) {
      setError(e);
    }
  };
  const pay = async (id: string) => {
    try {
      const reply = await call<Checkout>('POST', `/v1/billing/bills/${id}/checkout`, {});
      window.open(reply.url, '_blank', 'noopener');
    } catch (e) {
      setError(e);
    }
  };
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="sm">
        {t('billing.bills')}
      </Title>
      <ProblemAlert error={bills.error ?? error} />
      {bills.data?.items.length === 0 && <Text size="sm">{t('billing.noBills')}</Text>}
      {(bills.data?.items.length ?? 0) > 0 && (
        <div className="table-scroll" tabIndex={0}>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('billing.month')}</Table.Th>
                <Table.Th>{t('billing.kind')}</Table.Th>
                <Table.Th>{t('billing.total')}</Table.Th>
                <Table.Th>{t('fields.status')}</Table.Th>
                <Table.Th>{t('billing.due')}</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {bills.data!.items.map((b) => (
                <Table.Tr key={b.id}>
                  <Table.Td>{b.period.month}</Table.Td>
                  <Table.Td>{t(`billing.${b.kind}`)}</Table.Td>
                  <Table.Td>{format.money(b.total, b.currency)}</Table.Td>
                  <Table.Td>{t(`billing.status.${b.status}`)}</Table.Td>
                  <Table.Td>{b.dueDate}</Table.Td>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      <Button size="compact-xs" variant="default" onClick={() => pdf(b.id)}>
                        PDF
                      </Button>
                      {b.status === 'open' && b.kind === 'bill' && session.can('POST /v1/billing/bills/{id}/checkout') && (
                        <Button size="compact-xs" onClick={() => pay(b.id)}>
                          {t('billing.pay')}
                        </Button>
                      )}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </div>
      )}
    </Card>
  );
}

function Ledger() {
  const { t } = useTranslation();
  const format = useFormat();
  const [type, setType] = useState<string | null>(null);
  const [cursors, setCursors] = useState<string[]>([]);
  const [error, setError] = useState<unknown>();
  const query = `?limit=25${type ? `&type=${type}` : ''}`;
  const cursor = cursors.at(-1);
  const ledger = useApi(() => call<{ items: LedgerEntry[]; cursor?: string }>('GET', `/v1/billing/ledger${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`), [query, cursor]);
  const exportCsv = async () => {
    try {
      deliver(await call<Blob>('GET', `/v1/billing/ledger${query}`, undefined, 'text/csv'), 'ledger.csv');
    } catch (e) {
      setError(e);
    }
  };
  return (
    <Card withBorder>
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">
          {t('billing.ledger')}
        </Title>
        <Group align="end">
          <Select
            label={t('billing.type')}
            size="xs"
            clearable
            value={type}
            onChange={(v) => {
              setCursors([]);
              setType(v);
            }}
            data={['topup', 'payment', 'debit', 'refund', 'adjustment', 'bill'].map((v) => ({ value: v, label: t(`billing.types.${v}`) }))}
          />
          <Button size="xs" variant="default" onClick={exportCsv}>
            {t('billing.exportCsv')}
          </Button>
        </Group>
      </Group>
      <ProblemAlert error={ledger.error ?? error} />
      <div className="table-scroll" tabIndex={0}>
        <Table striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('history.when')}</Table.Th>
              <Table.Th>{t('billing.type')}</Table.Th>
              <Table.Th>{t('billing.amountShort')}</Table.Th>
              <Table.Th>{t('billing.balanceAfter')}</Table.Th>
              <Table.Th>{t('billing.reason')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(ledger.data?.items ?? []).map((e) => (
              <Table.Tr key={e.id}>
                <Table.Td>{format.dateTime(e.at)}</Table.Td>
                <Table.Td>{t(`billing.types.${e.type}`, { defaultValue: e.type })}</Table.Td>
                <Table.Td>{format.money(e.amount, e.currency)}</Table.Td>
                <Table.Td>{format.money(e.balanceAfter, e.currency)}</Table.Td>
                <Table.Td>{e.reason}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </div>
      <Group mt="sm">
        <Button size="xs" variant="default" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          {t('common.previous')}
        </Button>
        <Button size="xs" variant="default" disabled={!ledger.data?.cursor} onClick={() => ledger.data?.cursor && setCursors([...cursors, ledger.data.cursor])}>
          {t('common.next')}
        </Button>
      </Group>
    </Card>
  );
}
