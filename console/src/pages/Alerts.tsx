import { Button, Card, Group, NumberInput, Select, SimpleGrid, Stack, Table, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { client, unwrap } from '../api/client';
import { useSession } from '../api/session';
import { useApi } from '../api/use-api';
import { PageTitle } from '../components/PageTitle';
import { ProblemAlert } from '../components/ProblemAlert';
import { useFormat } from '../format';

export function AlertsPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const session = useSession();
  const routes = useApi(() => unwrap(client.GET('/v1/alert-routes')), []);
  const bots = useApi(() => unwrap(client.GET('/v1/gateways')).then((r) => r.items.filter((g) => g.channel === 'telegram')), []);
  const [route, setRoute] = useState({ purpose: 'emergency', chatId: '', threadId: '' as number | string, gatewayId: null as string | null });
  const [alert, setAlert] = useState({ purpose: 'emergency', text: t('alerts.testText'), severity: 'info' });
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<string>();
  const saveRoute = async () => {
    setError(undefined);
    setDone(undefined);
    try {
      await unwrap(
        client.PUT('/v1/alert-routes/{purpose}', {
          params: { path: { purpose: route.purpose } },
          body: { chatId: route.chatId, ...(typeof route.threadId === 'number' ? { threadId: route.threadId } : {}), ...(route.gatewayId ? { gatewayId: route.gatewayId } : {}) },
        }),
      );
      setDone(t('common.saved'));
      routes.reload();
    } catch (e) {
      setError(e);
    }
  };
  const sendTest = async () => {
    setError(undefined);
    setDone(undefined);
    try {
      const reply = await unwrap(client.POST('/v1/alerts', { body: { purpose: alert.purpose, text: alert.text, severity: alert.severity as 'info' } }));
      setDone(reply.collapsed ? t('alerts.collapsed') : t('alerts.sent'));
    } catch (e) {
      setError(e);
    }
  };
  const canWrite = session.can('PUT /v1/alert-routes/{purpose}');
  return (
    <Stack>
      <PageTitle>{t('nav.alerts')}</PageTitle>
      <Text>{t('alerts.explain')}</Text>
      <ProblemAlert error={routes.error} />
      <div className="table-scroll" tabIndex={0}>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('alerts.purpose')}</Table.Th>
              <Table.Th>{t('alerts.chatId')}</Table.Th>
              <Table.Th>{t('alerts.threadId')}</Table.Th>
              <Table.Th>{t('alerts.bot')}</Table.Th>
              <Table.Th>{t('alerts.updated')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(routes.data?.items ?? []).map((r) => (
              <Table.Tr key={r.purpose}>
                <Table.Td>{r.purpose}</Table.Td>
                <Table.Td>{r.chatId}</Table.Td>
                <Table.Td>{r.threadId ?? '—'}</Table.Td>
                <Table.Td>{r.gatewayId ?? t('alerts.defaultBot')}</Table.Td>
                <Table.Td>{format.dateTime(r.updatedAt)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </div>
      {routes.data?.items.length === 0 && <Text size="sm">{t('alerts.none')}</Text>}
      {canWrite && (
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <Card withBorder>
            <Stack>
              <Title order={2} size="h4">
                {t('alerts.setRoute')}
              </Title>
              <TextInput label={t('alerts.purpose')} value={route.purpose} onChange={(e) => setRoute({ ...route, purpose: e.currentTarget.value })} />
              <TextInput label={t('alerts.chatId')} description={t('alerts.chatIdHint')} value={route.chatId} onChange={(e) => setRoute({ ...route, chatId: e.currentTarget.value })} />
              <NumberInput label={t('alerts.threadId')} value={route.threadId} onChange={(v) => setRoute({ ...route, threadId: v })} min={1} />
              <Select label={t('alerts.bot')} data={(bots.data ?? []).map((g) => ({ value: g.id, label: g.name }))} value={route.gatewayId} onChange={(v) => setRoute({ ...route, gatewayId: v })} clearable />
              <Button onClick={saveRoute} disabled={!route.purpose || !route.chatId} w="fit-content">
                {t('common.save')}
              </Button>
            </Stack>
          </Card>
          <Card withBorder>
            <Stack>
              <Title order={2} size="h4">
                {t('alerts.test')}
              </Title>
              <TextInput label={t('alerts.purpose')} value={alert.purpose} onChange={(e) => setAlert({ ...alert, purpose: e.currentTarget.value })} />
              <Select label={t('alerts.severity')} data={['info', 'warning', 'critical'].map((s) => ({ value: s, label: t(`alerts.severities.${s}`) }))} value={alert.severity} onChange={(v) => v && setAlert({ ...alert, severity: v })} allowDeselect={false} />
              <Textarea label={t('send.text')} value={alert.text} onChange={(e) => setAlert({ ...alert, text: e.currentTarget.value })} />
              <Button onClick={sendTest} w="fit-content">
                {t('alerts.sendTest')}
              </Button>
            </Stack>
          </Card>
        </SimpleGrid>
      )}
      <ProblemAlert error={error} />
      {done && (
        <Group>
          <Text c="green.9" role="status">
            {done}
          </Text>
        </Group>
      )}
    </Stack>
  );
}
