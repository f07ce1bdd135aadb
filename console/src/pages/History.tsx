import { Anchor, Button, Card, Group, Select, SimpleGrid, Stack, Table, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Route, Routes, useNavigate, useParams } from 'react-router';
import { client, unwrap, type Schemas } from '../api/client';
import type { paths } from '../api/schema';
import { useApi, useInterval } from '../api/use-api';
import { MessageCard } from '../components/MessageTimeline';
import { PageTitle } from '../components/PageTitle';
import { ProblemAlert } from '../components/ProblemAlert';
import { StatusBadge } from '../components/StatusBadge';
import { useFormat } from '../format';

type Query = NonNullable<paths['/v1/messages']['get']['parameters']['query']>;

export function HistoryPage() {
  return (
    <Routes>
      <Route index element={<MessageList />} />
      <Route path=":id" element={<MessageDetail />} />
    </Routes>
  );
}

/** A YYYY-MM-DD from a date input as the start (or end) of that day in the operator's time zone would be: local midnight is close enough for a filter. */
const dayStart = (day: string) => (day ? new Date(`${day}T00:00:00`).toISOString() : undefined);
const dayEnd = (day: string) => (day ? new Date(`${day}T23:59:59.999`).toISOString() : undefined);

function MessageList() {
  const { t } = useTranslation();
  const format = useFormat();
  const [filters, setFilters] = useState({ from: '', to: '', customerId: '', status: '', channel: '', direction: '' });
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const query: Query = {
    limit: 25,
    ...(dayStart(filters.from) ? { from: dayStart(filters.from) } : {}),
    ...(dayEnd(filters.to) ? { to: dayEnd(filters.to) } : {}),
    ...(filters.customerId ? { customerId: filters.customerId } : {}),
    ...(filters.status ? { status: filters.status as never } : {}),
    ...(filters.channel ? { channel: filters.channel as never } : {}),
    ...(filters.direction ? { direction: filters.direction as never } : {}),
    ...(cursor ? { cursor } : {}),
  };
  const list = useApi(() => unwrap(client.GET('/v1/messages', { params: { query } })), [JSON.stringify(query)]);
  // Statuses move on by themselves (receipts): refresh while something is on its way.
  useInterval(list.reload, 2000, Boolean(list.data?.items.some((m) => m.status === 'queued' || m.status === 'sent')));
  const set = (name: keyof typeof filters) => (value: string | null) => {
    setCursors([]);
    setFilters({ ...filters, [name]: value ?? '' });
  };
  const select = (name: 'status' | 'channel' | 'direction', values: string[], prefix: string) => (
    <Select label={t(`fields.${name}`)} data={values.map((v) => ({ value: v, label: t(`${prefix}.${v}`) }))} value={filters[name] || null} onChange={set(name)} clearable />
  );
  return (
    <Stack>
      <PageTitle>{t('nav.history')}</PageTitle>
      <Card withBorder>
        <SimpleGrid cols={{ base: 2, md: 6 }}>
          <TextInput type="date" label={t('fields.from')} value={filters.from} onChange={(e) => set('from')(e.currentTarget.value)} />
          <TextInput type="date" label={t('fields.to')} value={filters.to} onChange={(e) => set('to')(e.currentTarget.value)} />
          <TextInput label={t('fields.customerId')} value={filters.customerId} onChange={(e) => set('customerId')(e.currentTarget.value)} />
          {select('status', ['queued', 'sent', 'delivered', 'read', 'failed', 'cancelled'], 'status')}
          {select('channel', ['sms', 'whatsapp', 'email', 'telegram'], 'channels')}
          {select('direction', ['out', 'in'], 'directions')}
        </SimpleGrid>
      </Card>
      <ProblemAlert error={list.error} />
      <div className="table-scroll" tabIndex={0}>
        <Table striped highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('history.when')}</Table.Th>
              <Table.Th>{t('fields.channel')}</Table.Th>
              <Table.Th>{t('history.toFrom')}</Table.Th>
              <Table.Th>{t('send.text')}</Table.Th>
              <Table.Th>{t('fields.status')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(list.data?.items ?? []).map((m: Schemas['Message']) => (
              <Table.Tr key={m.id} data-message-id={m.id}>
                <Table.Td>
                  <Anchor component={Link} to={m.id}>
                    {format.dateTime(m.createdAt)}
                  </Anchor>
                </Table.Td>
                <Table.Td>{t(`channels.${m.channel}`)}</Table.Td>
                <Table.Td>{m.direction === 'in' ? m.from : m.to}</Table.Td>
                <Table.Td maw={320}>
                  <Text size="sm" truncate>
                    {m.text}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <StatusBadge status={m.status} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </div>
      {list.data?.items.length === 0 && <Text>{t('history.empty')}</Text>}
      <Group>
        <Button variant="default" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          {t('common.previous')}
        </Button>
        <Button variant="default" disabled={!list.data?.cursor} onClick={() => list.data?.cursor && setCursors([...cursors, list.data.cursor])}>
          {t('common.next')}
        </Button>
      </Group>
    </Stack>
  );
}

function MessageDetail() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const message = useApi(() => unwrap(client.GET('/v1/messages/{id}', { params: { path: { id } } })), [id]);
  useInterval(message.reload, 1500, Boolean(message.data && ['queued', 'sent'].includes(message.data.status)));
  return (
    <Stack>
      <PageTitle actions={<Anchor component={Link} to="/history">{t('history.back')}</Anchor>}>{t('history.message')}</PageTitle>
      <ProblemAlert error={message.error} />
      {message.data && <MessageCard message={message.data} onResent={(resent) => navigate(`/history/${resent}`)} />}
    </Stack>
  );
}
