/**
 * Shapes of replies the OpenAPI document describes only as "any JSON" (billing) or not yet at all
 * (broadcasts, event rules, notifiers: being built, contracts agreed in issue 12). The typed
 * client's types come from the document; these are the console's reading of the rest.
 */
import type { Money } from '../api/client';

export interface Balance {
  billing: 'prepaid' | 'postpaid';
  currency: string;
  balance: number;
  reserved: number;
  available: number;
  creditLimit: number;
  lowBalanceThreshold: number | null;
}

export interface Usage {
  groupBy: 'day' | 'channel';
  currency: string | null;
  items: Array<{ key: string; messages: number; segments: number; spend: number }>;
}

export interface LedgerEntry {
  id: string;
  type: string;
  amount: number;
  currency: string;
  balanceAfter: number;
  reason: string;
  at: string;
  messageId?: string;
}

export interface OperatorBill {
  id: string;
  kind: 'bill' | 'statement';
  period: { month: string };
  currency: string;
  total: number;
  paid: number;
  status: 'open' | 'paid' | 'void';
  issuedAt: string;
  dueDate: string;
}

export interface Checkout {
  provider: string;
  url: string;
  amount: number;
  currency: string;
}

export type BroadcastChannel = 'sms' | 'whatsapp' | 'email';

export interface BroadcastFilter {
  status?: string[];
  zone?: string[];
  package?: string[];
  resellerId?: string[];
  overdueDays?: number;
}

export interface BroadcastInput {
  name?: string;
  kind?: 'broadcast' | 'payment_link';
  filter: BroadcastFilter;
  channel: 'auto' | BroadcastChannel;
  text?: string;
  templateId?: string;
  subject?: string;
  category: 'transactional' | 'marketing';
  sendAt?: string;
  maxCost?: number;
  dryRun?: boolean;
}

export interface BroadcastPlan {
  id?: string;
  state?: string;
  recipients: number;
  segments: number;
  cost: Money;
  byChannel: Partial<Record<BroadcastChannel, { recipients: number; segments: number; cost: Money }>>;
  samples?: Array<{ customerId: string; to: string; channel: string; text: string }>;
}

export interface BroadcastView {
  id: string;
  kind?: 'broadcast' | 'payment_link';
  name?: string;
  state: 'scheduled' | 'planning' | 'sending' | 'completed' | 'cancelled';
  recipients?: number;
  counts?: Partial<Record<'queued' | 'sent' | 'delivered' | 'read' | 'failed' | 'cancelled', number>>;
  percentDone?: number;
  startedAt?: string;
  finishedAt?: string;
  ratePerSecond?: { now: number; average: number };
  spent?: Money;
  skipped?: Record<string, number>;
  estimate?: unknown;
  createdAt?: string;
}

export interface ReportFigures {
  recipients: number;
  sent: number;
  delivered: number;
  clicked: number;
  paid: number;
  collected: Money;
  conversionRate: number;
  medianMinutesToPay?: number | null;
}

export interface BroadcastReport extends ReportFigures {
  byZone: Array<ReportFigures & { zone: string }>;
  byChannel: Array<ReportFigures & { channel: string }>;
}

export interface EventRule {
  type?: string;
  enabled: boolean;
  channels: Array<{ channel: string; templateId: string }>;
  alert?: { purpose: string; severity: 'info' | 'warning' | 'critical' };
}

export interface Notifier {
  enabled: boolean;
  steps: Array<{ offsetDays: number; templateId: string; channel: string }>;
  sendAt: string;
  timezone?: string;
}
