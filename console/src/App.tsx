import { AppShell, Badge, Burger, Center, Group, Loader, NavLink, ScrollArea, SegmentedControl, Button, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, Route, Routes, useLocation } from 'react-router';
import { useSession, useSessionState } from './api/session';
import { setLanguage } from './i18n';
import { AlertsPage } from './pages/Alerts';
import { BillingPage } from './pages/Billing';
import { BroadcastsPage } from './pages/Broadcasts';
import { DashboardPage } from './pages/Dashboard';
import { GatewaysPage } from './pages/Gateways';
import { HistoryPage } from './pages/History';
import { RemindersPage } from './pages/Reminders';
import { SendPage } from './pages/Send';
import { SettingsPage } from './pages/Settings';
import { SignInPage } from './pages/SignIn';
import { TemplatesPage } from './pages/Templates';

/** Each page, the route that must be readable for it to be in the menu, and its element. */
const pages = [
  { path: '/', key: 'dashboard', needs: 'GET /v1/billing/balance', element: <DashboardPage /> },
  { path: '/send', key: 'send', needs: 'POST /v1/messages', element: <SendPage /> },
  { path: '/history', key: 'history', needs: 'GET /v1/messages', element: <HistoryPage /> },
  { path: '/broadcasts', key: 'broadcasts', needs: 'GET /v1/broadcasts', element: <BroadcastsPage /> },
  { path: '/templates', key: 'templates', needs: 'GET /v1/templates', element: <TemplatesPage /> },
  { path: '/gateways', key: 'gateways', needs: 'GET /v1/gateways', element: <GatewaysPage /> },
  { path: '/reminders', key: 'reminders', needs: 'GET /v1/event-rules', element: <RemindersPage /> },
  { path: '/billing', key: 'billing', needs: 'GET /v1/billing/balance', element: <BillingPage /> },
  { path: '/alerts', key: 'alerts', needs: 'GET /v1/alert-routes', element: <AlertsPage /> },
  { path: '/settings', key: 'settings', needs: 'GET /v1/settings', element: <SettingsPage /> },
] as const;

export function App() {
  const { session, restoring } = useSessionState();
  const { i18n } = useTranslation();
  useEffect(() => {
    document.documentElement.lang = i18n.language;
  }, [i18n.language]);
  if (restoring) {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  return session ? <Shell /> : <SignInPage />;
}

function Shell() {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  useEffect(close, [location.pathname, close]);
  const visible = pages.filter((page) => session.can(page.needs));
  const home = visible[0]?.path ?? '/';
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t('nav.menu')} />
            <Text fw={700} component={Link} to="/" c="inherit" td="none">
              ispnotify
            </Text>
            <Badge variant="outline" color="dark" data-testid="role">
              {t(`roles.${session.role}`)}
            </Badge>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <SegmentedControl
              size="xs"
              aria-label={t('nav.language')}
              value={i18n.language.startsWith('bn') ? 'bn' : 'en'}
              onChange={(lang) => setLanguage(lang)}
              data={[
                { value: 'en', label: 'EN' },
                { value: 'bn', label: 'বাংলা' },
              ]}
            />
            <Button size="xs" variant="default" onClick={session.signOut}>
              {t('nav.signOut')}
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label={t('nav.main')}>
        <ScrollArea>
          {visible.map((page) => (
            <NavLink
              key={page.key}
              component={Link}
              to={page.path}
              label={t(`nav.${page.key}`)}
              // Filled: white on the primary shade keeps AA contrast (the light variant does not).
              variant="filled"
              active={page.path === '/' ? location.pathname === '/' : location.pathname.startsWith(page.path)}
            />
          ))}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
          <Routes>
            {visible.map((page) => (
              <Route key={page.key} path={page.path === '/' ? '/' : `${page.path}/*`} element={page.element} />
            ))}
            <Route path="*" element={<Navigate to={home} replace />} />
          </Routes>
      </AppShell.Main>
    </AppShell>
  );
}
