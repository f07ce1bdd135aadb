import { Badge } from '@mantine/core';
import { useTranslation } from 'react-i18next';

// Shade 8/9: white text on them keeps WCAG AA contrast.
const colors: Record<string, string> = {
  queued: 'gray.7',
  sent: 'blue.8',
  delivered: 'green.9',
  read: 'teal.9',
  failed: 'red.9',
  cancelled: 'dark.5',
  scheduled: 'gray.7',
  planning: 'indigo.8',
  sending: 'blue.8',
  completed: 'green.9',
};

export function StatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  return (
    <Badge color={colors[status] ?? 'gray.7'} variant="filled" data-status={status}>
      {t(`status.${status}`, { defaultValue: status })}
    </Badge>
  );
}
