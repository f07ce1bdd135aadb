/** Read-side views of the ledger: the CSV export and usage grouped for a chart. */
import type { Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';
import type { LedgerType } from '../ports.js';

/** Rows at most in one export: a month of a busy operator fits; more is a narrower range. */
const MAX_EXPORT_ROWS = 200_000;

const csvCell = (value: unknown) => {
  const text = value === undefined || value === null ? '' : String(value);
  // Quote always; a leading = + - @ is prefixed so a spreadsheet never runs it as a formula.
  const safe = /^[=+\-@\t\r]/.test(text) && !/^-?\d+$/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
};

export async function ledgerCsv(d: Pick<Deps, 'billing'>, operatorId: string, filter: { from?: string; to?: string; type?: LedgerType }): Promise<string> {
  const columns = ['id', 'at', 'type', 'amount', 'currency', 'balanceAfter', 'reason', 'messageId', 'billId', 'paymentId', 'resellerId', 'channel', 'segments', 'messages', 'broadcastId'] as const;
  const lines = [columns.join(',')];
  for await (const entry of d.billing.entries(operatorId, filter)) {
    if (filter.type && entry.type !== filter.type) continue;
    lines.push(columns.map((c) => csvCell(entry[c])).join(','));
    if (lines.length > MAX_EXPORT_ROWS) break;
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Messages, segments and spend from the ledger's debits, by day (in the operator's time zone) or by channel. */
export async function usage(d: Pick<Deps, 'billing'>, operator: Operator, query: { from: string; to: string; groupBy: 'day' | 'channel' }) {
  const groups = new Map<string, { key: string; messages: number; segments: number; spend: number }>();
  const dayOf = (at: string) => new Intl.DateTimeFormat('en-CA', { timeZone: operator.timezone }).format(new Date(at));
  let currency: string | undefined;
  for await (const entry of d.billing.entries(operator.id, { from: query.from, to: query.to })) {
    if (entry.type !== 'debit') continue;
    currency ??= entry.currency;
    const key = query.groupBy === 'day' ? dayOf(entry.at) : (entry.channel ?? 'sms');
    const group = groups.get(key) ?? { key, messages: 0, segments: 0, spend: 0 };
    group.messages++;
    group.segments += entry.segments ?? 0;
    group.spend -= entry.amount;
    groups.set(key, group);
  }
  return { groupBy: query.groupBy, currency: currency ?? null, items: [...groups.values()].sort((a, b) => a.key.localeCompare(b.key)) };
}
