import '@mantine/core/styles.css';
import './console.css';
import { MantineProvider, createTheme } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { loadApiBase } from './api/client';
import { SessionProvider } from './api/session';
import { App } from './App';
import './i18n';

// Shade 8 for buttons and links: white on it keeps WCAG AA contrast (shade 6 does not).
const theme = createTheme({ primaryColor: 'blue', primaryShade: 8, autoContrast: true });

await loadApiBase();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme}>
      <BrowserRouter basename={import.meta.env.BASE_URL.replace(/\/$/, '')}>
        <SessionProvider>
          <App />
        </SessionProvider>
      </BrowserRouter>
    </MantineProvider>
  </StrictMode>,
);
