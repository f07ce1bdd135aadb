import { Badge } from '@mantine/core';
import { useTranslation } from 'react-i18next';

// Dark enough that white text on them keeps WCAG AA contrast (axe checks it in test/e2e).
const colors: Record<string, string> = {
  queued: '#495057',
  sent: '#1864ab',
  delivered: '#1b5e20',
  read: '#0b5563',
  failed: '#a61e1e',
  cancelled: '#343a40',
  scheduled: '#495057',
  planning: '#364fc7',
  sending: '#1864ab',
  completed: '#1b5e20',
};

export function StatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  return (
    <Badge color={colors[status] ?? '#495057'} variant="filled" data-status={status}>
      {t(`status.${status}`, { defaultValue: status })}
    </Badge>
  );
}
