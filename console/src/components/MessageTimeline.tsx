import { Anchor, Badge, Button, Card, Group, Stack, Table, Text, Timeline, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { client, unwrap, type Schemas } from '../api/client';
import { useSession } from '../api/session';
import { useFormat } from '../format';
import { ProblemAlert } from './ProblemAlert';
import { StatusBadge } from './StatusBadge';

/** A message: its status timeline with the providers' reasons, every gateway tried, fallback and resend links. */
export function MessageCard({ message, onResent }: { message: Schemas['Message']; onResent?(id: string): void }) {
  const { t } = useTranslation();
  const format = useFormat();
  const session = useSession();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const resend = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const sent = await unwrap(client.POST('/v1/messages/{id}/resend', { params: { path: { id: message.id } } }));
      onResent?.(sent.id);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const related: Array<[string, string | undefined]> = [
    ['resendOf', message.resendOf],
    ['resentAs', message.resentAs],
    ['fallbackOf', message.fallbackOf],
    ['fallbackMessageId', message.fallbackMessageId],
  ];
  return (
    <Card withBorder data-testid="message-card">
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={2} size="h4">
            {t(`channels.${message.channel}`)} → {message.to}
          </Title>
          <StatusBadge status={message.status} />
        </Group>
        <Text style={{ whiteSpace: 'pre-wrap' }}>{message.text}</Text>
        <Group gap="xs">
          {message.segments !== undefined && <Badge variant="outline" color="dark">{t('send.segments', { count: message.segments })}</Badge>}
          {message.encoding && <Badge variant="outline" color="dark">{message.encoding}</Badge>}
          {message.cost && <Badge variant="outline" color="dark">{format.money(message.cost.amount, message.cost.currency)}</Badge>}
          <Badge variant="outline" color="dark">{t('history.attempts', { count: message.attempts })}</Badge>
        </Group>
        {message.routing && <Text size="sm">{t('history.routing')}: {message.routing}</Text>}
        {message.lastError && <Text size="sm" c="red.9">{t('history.lastError')}: {message.lastError}</Text>}
        <Title order={3} size="h5">
          {t('history.timeline')}
        </Title>
        <Timeline active={message.history.length - 1} bulletSize={14} lineWidth={2}>
          {message.history.map((change, i) => (
            <Timeline.Item key={`${change.at}-${i}`} title={t(`status.${change.status}`)}>
              <Text size="xs">{format.dateTime(change.at)}</Text>
              {change.reason && <Text size="sm">{change.reason}</Text>}
              {change.providerStatus && <Text size="xs">{t('history.providerStatus')}: {change.providerStatus}</Text>}
              {change.late && <Text size="xs">{t('history.late')}</Text>}
            </Timeline.Item>
          ))}
        </Timeline>
        {message.tries && message.tries.length > 0 && (
          <>
            <Title order={3} size="h5">
              {t('history.tries')}
            </Title>
            <div className="table-scroll" tabIndex={0}>
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('history.when')}</Table.Th>
                    <Table.Th>{t('history.gateway')}</Table.Th>
                    <Table.Th>{t('history.outcome')}</Table.Th>
                    <Table.Th>{t('history.detail')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {message.tries.map((attempt, i) => (
                    <Table.Tr key={i}>
                      <Table.Td>{format.dateTime(attempt.at)}</Table.Td>
                      <Table.Td>
                        {attempt.provider} ({attempt.gatewayId})
                      </Table.Td>
                      <Table.Td>{t(`outcomes.${attempt.outcome}`)}</Table.Td>
                      <Table.Td>{attempt.detail}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </div>
          </>
        )}
        {related.map(
          ([name, id]) =>
            id && (
              <Text size="sm" key={name}>
                {t(`history.${name}`)}:{' '}
                <Anchor component={Link} to={`/history/${id}`}>
                  {id}
                </Anchor>
              </Text>
            ),
        )}
        <ProblemAlert error={error} />
        {message.status === 'failed' && !message.resentAs && session.can('POST /v1/messages/{id}/resend') && (
          <Button onClick={resend} loading={busy} w="fit-content">
            {t('history.resend')}
          </Button>
        )}
      </Stack>
    </Card>
  );
}
