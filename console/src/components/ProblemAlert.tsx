import { Alert, Button, List } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError, type Money } from '../api/client';
import { useFormat } from '../format';

/** An API failure in words: a 402 names the shortfall and the way to a top-up; field errors are listed. */
export function ProblemAlert({ error, title }: { error: unknown; title?: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  if (!error) return null;
  if (!(error instanceof ApiError)) {
    return (
      <Alert color="red" title={title ?? t('problem.network')} role="alert">
        {String(error instanceof Error ? error.message : error)}
      </Alert>
    );
  }
  const { status, problem } = error;
  if (status === 402) {
    const shortfall = problem.shortfall as Money | undefined;
    return (
      <Alert color="orange" title={t('problem.balanceTitle')} role="alert">
        {shortfall ? t('problem.balanceShort', { amount: format.money(shortfall.amount, shortfall.currency) }) : problem.detail}
        <Button component={Link} to="/billing" size="xs" mt="sm" display="block" w="fit-content">
          {t('problem.topUp')}
        </Button>
      </Alert>
    );
  }
  return (
    <Alert color="red" title={title ?? problem.title ?? t('problem.failed', { status })} role="alert">
      {status === 403 ? t('problem.forbidden') : problem.detail}
      {problem.errors && problem.errors.length > 0 && (
        <List size="sm" mt="xs">
          {problem.errors.map((e) => (
            <List.Item key={`${e.field}:${e.message}`}>
              <b>{e.field}</b>: {e.message}
            </List.Item>
          ))}
        </List>
      )}
    </Alert>
  );
}

/** A route that answers 404 as a whole (a feature this API does not have yet). */
export function isMissingRoute(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && /No route/i.test(error.problem.detail ?? '');
}

export function NotAvailable({ feature }: { feature: string }) {
  const { t } = useTranslation();
  return (
    <Alert color="gray" title={t('problem.notAvailableTitle')} role="status">
      {t('problem.notAvailable', { feature })}
    </Alert>
  );
}
