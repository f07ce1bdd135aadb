import { Button, Card, Group, NumberInput, SimpleGrid, Stack, Switch, TagsInput, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, type Schemas } from '../api/client';
import { useSession } from '../api/session';
import { PageTitle } from '../components/PageTitle';
import { ProblemAlert } from '../components/ProblemAlert';

type Settings = Schemas['Settings'] & { quietHours?: { start: string; end: string } | null };

export function SettingsPage() {
  const { t } = useTranslation();
  const session = useSession();
  const current = session.settings as Settings | undefined;
  const [draft, setDraft] = useState<Settings | undefined>(current);
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const readOnly = !session.can('PATCH /v1/settings');
  if (!draft || !current) return <PageTitle>{t('nav.settings')}</PageTitle>;
  const set = (patch: Partial<Settings>) => {
    setSaved(false);
    setDraft({ ...draft, ...patch });
  };
  const save = async () => {
    setError(undefined);
    // Only what changed: PATCH leaves the rest as it is.
    const patch: Record<string, unknown> = {};
    for (const key of ['name', 'defaultCountry', 'timezone', 'destinationCountries', 'optOutWords', 'optInWords', 'systemAlertPurpose', 'quietHours'] as const) {
      if (JSON.stringify(draft[key]) !== JSON.stringify(current[key])) patch[key] = draft[key];
    }
    if (JSON.stringify(draft.limits) !== JSON.stringify(current.limits)) patch.limits = draft.limits;
    // Quiet hours: both times, or none (null removes them).
    if ('quietHours' in patch) patch.quietHours = draft.quietHours?.start && draft.quietHours.end ? draft.quietHours : null;
    const { rules: _rules, ...routing } = draft.routing;
    const { rules: _was, ...wasRouting } = current.routing;
    if (JSON.stringify(routing) !== JSON.stringify(wasRouting)) patch.routing = routing;
    try {
      await call('PATCH', '/v1/settings', patch);
      await session.reloadSettings();
      setSaved(true);
    } catch (e) {
      setError(e);
    }
  };
  const routing = draft.routing;
  return (
    <Stack>
      <PageTitle>{t('nav.settings')}</PageTitle>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder>
          <Stack>
            <Title order={2} size="h4">
              {t('settings.operator')}
            </Title>
            <TextInput label={t('fields.name')} value={draft.name} onChange={(e) => set({ name: e.currentTarget.value })} disabled={readOnly} />
            <TextInput label={t('settings.country')} description={t('settings.countryHint')} value={draft.defaultCountry} onChange={(e) => set({ defaultCountry: e.currentTarget.value.toUpperCase() })} maxLength={2} disabled={readOnly} />
            <TextInput label={t('settings.timezone')} description={t('settings.timezoneHint')} value={draft.timezone} onChange={(e) => set({ timezone: e.currentTarget.value })} disabled={readOnly} />
            <TagsInput label={t('settings.destinations')} description={t('settings.destinationsHint')} value={draft.destinationCountries} onChange={(v) => set({ destinationCountries: v.map((c) => c.toUpperCase()) })} disabled={readOnly} />
          </Stack>
        </Card>
        <Card withBorder>
          <Stack>
            <Title order={2} size="h4">
              {t('settings.routing')}
            </Title>
            <Switch label={t('settings.whatsappUsesMobile')} checked={routing.whatsappUsesMobile} onChange={(e) => set({ routing: { ...routing, whatsappUsesMobile: e.currentTarget.checked } })} disabled={readOnly} />
            <Switch label={t('settings.fallbackToSms')} checked={routing.fallbackToSms} onChange={(e) => set({ routing: { ...routing, fallbackToSms: e.currentTarget.checked } })} disabled={readOnly} />
            <NumberInput
              label={t('settings.fallbackAfter')}
              description={t('settings.fallbackAfterHint')}
              value={routing.fallbackAfterSeconds ?? ''}
              min={60}
              max={86400}
              onChange={(v) => set({ routing: { ...routing, fallbackAfterSeconds: typeof v === 'number' ? v : null } })}
              disabled={readOnly}
            />
            <Text size="sm">{t('settings.rules', { count: routing.rules.length })}</Text>
          </Stack>
        </Card>
        <Card withBorder>
          <Stack>
            <Title order={2} size="h4">
              {t('settings.limits')}
            </Title>
            <NumberInput label={t('settings.requestsPerSecond')} value={draft.limits.requestsPerSecond} min={1} onChange={(v) => typeof v === 'number' && set({ limits: { ...draft.limits, requestsPerSecond: v } })} disabled={readOnly} />
            <NumberInput label={t('settings.messagesPerDay')} value={draft.limits.messagesPerDay} min={1} thousandSeparator="," onChange={(v) => typeof v === 'number' && set({ limits: { ...draft.limits, messagesPerDay: v } })} disabled={readOnly} />
            {'quietHours' in draft && (
              <Group grow>
                <TextInput type="time" label={t('settings.quietFrom')} value={draft.quietHours?.start ?? ''} onChange={(e) => set({ quietHours: { start: e.currentTarget.value, end: draft.quietHours?.end ?? '' } })} disabled={readOnly} />
                <TextInput type="time" label={t('settings.quietTo')} value={draft.quietHours?.end ?? ''} onChange={(e) => set({ quietHours: { end: e.currentTarget.value, start: draft.quietHours?.start ?? '' } })} disabled={readOnly} />
              </Group>
            )}
          </Stack>
        </Card>
        <Card withBorder>
          <Stack>
            <Title order={2} size="h4">
              {t('settings.words')}
            </Title>
            <TagsInput label={t('settings.optOut')} value={draft.optOutWords} onChange={(v) => set({ optOutWords: v })} disabled={readOnly} />
            <TagsInput label={t('settings.optIn')} value={draft.optInWords} onChange={(v) => set({ optInWords: v })} disabled={readOnly} />
            <TextInput label={t('settings.systemAlertPurpose')} value={draft.systemAlertPurpose} onChange={(e) => set({ systemAlertPurpose: e.currentTarget.value })} disabled={readOnly} />
          </Stack>
        </Card>
      </SimpleGrid>
      <ProblemAlert error={error} />
      {saved && <Text c="green.9" role="status">{t('common.saved')}</Text>}
      {!readOnly && (
        <Button onClick={save} w="fit-content">
          {t('common.save')}
        </Button>
      )}
    </Stack>
  );
}
