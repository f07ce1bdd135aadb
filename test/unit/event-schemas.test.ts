import { describe, expect, it } from 'vitest';
import { EventInput, eventVariables } from '../../shared/domain/event-schemas.js';
import { formatAmount } from '../../shared/services/event-content.js';

const envelope = { id: 'e-1', customerId: 'c-1', occurredAt: '2026-11-28T10:15:00+06:00' };

describe('event schemas', () => {
  it('parse each type\'s data with its own schema', () => {
    expect(EventInput.parse({ ...envelope, type: 'payment.received', data: { amount: 150000, currency: 'BDT', method: 'cash', receiptNumber: 'R1' } }).data).toEqual({ amount: 150000, currency: 'BDT', method: 'cash', receiptNumber: 'R1' });
    expect(EventInput.parse({ ...envelope, type: 'customer.registered', data: { name: 'A', mobile: '01711000000' } }).data).toMatchObject({ status: 'active' });
    expect(EventInput.safeParse({ ...envelope, type: 'service.expiring', data: { amount: 1 } }).success).toBe(false);
    expect(EventInput.safeParse({ ...envelope, type: 'customer.suspended', data: {}, extra: true }).success).toBe(false);
  });

  it('give templates the event, its data and a formatted amount', () => {
    expect(eventVariables('payment.received')).toEqual(['event.id', 'event.type', 'event.occurredAt', 'event.customerId', 'amount', 'currency', 'method', 'receiptNumber', 'billId', 'newExpiresAt', 'amountFormatted']);
    expect(eventVariables('customer.suspended')).toEqual(['event.id', 'event.type', 'event.occurredAt', 'event.customerId', 'reason']);
  });

  it('format minor units by the currency\'s digits', () => {
    expect(formatAmount(150000, 'BDT')).toBe('1,500.00');
    expect(formatAmount(5, 'USD')).toBe('0.05');
    expect(formatAmount(1200, 'JPY')).toBe('1,200');
  });
});
