import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateApiKey, hashApiKey } from '../domain/api-keys.js';
import type { Operator } from '../domain/records.js';
import { deps } from '../deps.js';
import { importCustomers } from '../services/customers.js';
import { saveGateway } from '../services/gateways.js';
import { creditBalance } from '../services/billing.js';
import { LOCAL_MAILBOX_ENV } from '../adapters/providers/email/smtp.js';
import { putTemplate } from '../services/templates.js';

export const DEMO_OPERATOR_ID = 'demo';
/** BDT 1,000,000.00 in poisha: plenty for the tour, the tests and the benchmarks. */
export const DEMO_TOP_UP = 100_000_000;

const zones = ['Mirpur', 'Uttara', 'Dhanmondi', 'Gulshan'];
const packages = ['Home 10 Mbps', 'Home 20 Mbps', 'Home 40 Mbps'];
const names = [
  'Rahim Uddin', 'Karim Hossain', 'Fatema Begum', 'Nusrat Jahan', 'Tanvir Ahmed', 'Sadia Islam', 'Mahmudul Hasan',
  'Ayesha Siddiqua', 'Rafiqul Islam', 'Shirin Akter', 'Imran Khan', 'Jannatul Ferdous', 'Arif Chowdhury', 'Mithila Roy',
  'Sabbir Rahman', 'Farhana Yasmin', 'Habibur Rahman', 'Tasnim Ara', 'Kamrul Hasan', 'Nasrin Sultana',
];
const statuses = ['active', 'active', 'active', 'billed', 'suspended', 'expired'] as const;

/** About twenty customers over zones, packages and statuses; c-0020's handset never receives (sandbox: ends 0000). */
function demoCustomers() {
  return names.map((name, i) => ({
    id: `c-${String(i + 1).padStart(4, '0')}`,
    name,
    mobile: i === 19 ? '01711110000' : `0171${String(1000123 + i * 7919).slice(0, 7)}`,
    status: statuses[i % statuses.length],
    zone: zones[i % zones.length],
    package: packages[i % packages.length],
    resellerId: i % 5 === 0 ? 'reseller-north' : undefined,
    expiresAt: new Date(Date.UTC(2026, 11, 1 + (i % 28))).toISOString().slice(0, 10),
  }));
}

/**
 * Two customers with WhatsApp numbers for the tour: wa-0001 gets WhatsApp (delivered, then read);
 * wa-0002's WhatsApp number ends 0000, which the WhatsApp sandbox reports as not on WhatsApp, so its
 * messages fall back to SMS on its mobile.
 */
const whatsappCustomers = [
  { id: 'wa-0001', name: 'Jamal Uddin', mobile: '01711552211', whatsapp: '01819990123', email: 'jamal@example.com', status: 'active' as const, zone: 'Mirpur', package: 'Home 20 Mbps' },
  { id: 'wa-0002', name: 'Rupa Das', mobile: '01711552233', whatsapp: '01819990000', status: 'active' as const, zone: 'Uttara', package: 'Home 40 Mbps' },
];

const DEMO_MAIL_GATEWAY = 'Local mailbox (SMTP)';

/**
 * The demo's email gateway: SMTP to the local stack's mailbox (shared/local/mailbox.ts), whose port
 * changes at every start, so the gateway is made or pointed at it again each time.
 */
async function pointDemoMailGateway(): Promise<void> {
  const mailbox = process.env[LOCAL_MAILBOX_ENV];
  if (!mailbox) return;
  const d = deps();
  const operator = (await d.operators.get(DEMO_OPERATOR_ID))!;
  const [host, port] = [mailbox.slice(0, mailbox.lastIndexOf(':')), Number(mailbox.slice(mailbox.lastIndexOf(':') + 1))];
  const settings = { host, port, security: 'none', fromAddress: 'billing@demo-isp.example', fromName: 'Demo ISP' };
  const existing = (await d.gateways.list(DEMO_OPERATOR_ID)).find((g) => g.channel === 'email' && g.name === DEMO_MAIL_GATEWAY);
  await saveGateway(d, operator, { name: DEMO_MAIL_GATEWAY, channel: 'email', provider: 'smtp', settings, default: true, ...(existing ? {} : { credentials: {} }) }, existing?.id);
}

/**
 * On an empty database: the demo operator, its API key, sandbox SMS and WhatsApp gateways, a template and
 * demo customers. The key is stored only hashed; locally its plain text is kept in
 * <dataDir>/demo-api-key so `npm start` can print it again after a restart.
 */
export async function seedDemo(opts: { dataDir?: string } = {}): Promise<{ operatorId: string; apiKey: string; created: boolean }> {
  const d = deps();
  const keyFile = opts.dataDir ? join(opts.dataDir, 'demo-api-key') : undefined;
  const existing = await d.operators.get(DEMO_OPERATOR_ID);
  if (existing && keyFile) {
    const saved = await readFile(keyFile, 'utf8').catch(() => undefined);
    if (saved && (await d.operators.operatorIdForKey(hashApiKey(saved.trim()))) === DEMO_OPERATOR_ID) {
      return { operatorId: DEMO_OPERATOR_ID, apiKey: saved.trim(), created: false };
    }
  }
  const apiKey = generateApiKey();
  if (!existing) {
    const operator: Operator = {
      id: DEMO_OPERATOR_ID,
      name: 'Demo ISP',
      defaultCountry: 'BD',
      timezone: 'Asia/Dhaka',
      // OTPs by WhatsApp use this authentication template (the WhatsApp sandbox accepts any name).
      otpWhatsappTemplate: { name: 'otp_code', language: 'en' },
      // Prepaid, with a starting top-up (GET /v1/billing/balance, /v1/billing/ledger).
      billing: 'prepaid',
      lowBalanceThreshold: 50_000,
      // Where payment links (GET /p/{token}) send the demo's customers.
      paymentUrlTemplate: 'https://portal.example/pay?customer={{customer.id}}&bill={{bill.reference}}',
      createdAt: d.clock.now().toISOString(),
    };
    await d.operators.put(operator);
    await creditBalance(d, operator, { type: 'topup', amount: DEMO_TOP_UP, currency: 'BDT', reference: 'topup:demo-start', reason: 'Starting top-up of the demo ISP' });
    await d.billing.setLimits(DEMO_OPERATOR_ID, { lowBalanceThreshold: operator.lowBalanceThreshold });
    await saveGateway(d, operator, {
      name: 'Sandbox SMS',
      channel: 'sms',
      provider: 'sandbox',
      credentials: { webhookSecret: randomBytes(24).toString('base64url') },
      settings: { senderId: 'DemoISP', deliveryDelayMs: 500 },
      default: true,
    });
    await saveGateway(d, (await d.operators.get(DEMO_OPERATOR_ID))!, {
      name: 'Sandbox WhatsApp',
      channel: 'whatsapp',
      provider: 'sandbox',
      credentials: { webhookSecret: randomBytes(24).toString('base64url') },
      settings: { deliveryDelayMs: 500, readDelayMs: 1500 },
      default: true,
    });
    const withGateway = (await d.operators.get(DEMO_OPERATOR_ID))!;
    await putTemplate(d, withGateway, 'due-reminder', {
      name: 'Due-date reminder',
      channel: 'sms',
      body: 'Dear {{customer.name}}, your {{customer.package}} bill of BDT {{amount}} is due on {{dueDate}}. Pay: {{payLink}}',
      // The same reminder as an approved WhatsApp template (the sandbox accepts any name).
      whatsapp: { name: 'due_reminder', language: 'en', parameters: ['{{customer.name}}', '{{amount}}', '{{dueDate}}', '{{payLink}}'] },
      // And as an email: values are HTML-escaped in the HTML part; the text part is made from it.
      email: {
        subject: 'Your {{customer.package}} bill of BDT {{amount}} is due on {{dueDate}}',
        html: '<p>Dear {{customer.name}},</p><p>Your <b>{{customer.package}}</b> bill of BDT {{amount}} is due on {{dueDate}}.</p><p><a href="{{payLink}}">Pay now</a></p><p>{{operator.name}}</p>',
      },
    });
    await importCustomers(d, withGateway, [...demoCustomers(), ...whatsappCustomers]);
  }
  await pointDemoMailGateway();
  await d.operators.putApiKey(hashApiKey(apiKey), DEMO_OPERATOR_ID, 'demo key');
  if (keyFile && opts.dataDir) {
    await mkdir(opts.dataDir, { recursive: true });
    await writeFile(keyFile, `${apiKey}\n`, { mode: 0o600 });
  }
  return { operatorId: DEMO_OPERATOR_ID, apiKey, created: !existing };
}
