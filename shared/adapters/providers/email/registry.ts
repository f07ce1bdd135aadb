/** Every email provider this version knows, by id. Adding a provider is one file and one line here. */
import type { EmailProvider } from '../../../ports.js';
import { sesEmail } from './ses.js';
import { smtpEmail } from './smtp.js';

export const emailProviders: Record<string, EmailProvider<any, any>> = {
  [sesEmail.id]: sesEmail,
  [smtpEmail.id]: smtpEmail,
};

export function emailProvider(id: string): EmailProvider<any, any> | undefined {
  return Object.hasOwn(emailProviders, id) ? emailProviders[id] : undefined;
}
