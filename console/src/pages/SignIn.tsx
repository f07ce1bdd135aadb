import { Button, Card, Center, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useSessionState } from '../api/session';
import { ProblemAlert } from '../components/ProblemAlert';

export function SignInPage() {
  const { t } = useTranslation();
  const { signIn } = useSessionState();
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(key.trim());
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Center mih="100vh" p="md">
      <main style={{ width: '100%', maxWidth: 420 }}>
        <Card withBorder shadow="sm" padding="lg" component="form" onSubmit={submit}>
          <Stack>
            <Title order={1} size="h2">
              {t('signIn.title')}
            </Title>
            <Text size="sm">{t('signIn.explain')}</Text>
            <PasswordInput label={t('signIn.key')} name="apiKey" value={key} onChange={(e) => setKey(e.currentTarget.value)} required autoComplete="off" />
            <ProblemAlert error={error} title={t('signIn.failed')} />
            <Button type="submit" loading={busy} disabled={!key.trim()}>
              {t('signIn.submit')}
            </Button>
          </Stack>
        </Card>
      </main>
    </Center>
  );
}
