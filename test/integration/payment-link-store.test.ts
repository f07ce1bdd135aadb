import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoPaymentLinkStore as store, MAX_USER_AGENT_LENGTH } from '../../shared/adapters/dynamodb/payment-links.js';
import type { PaymentLink } from '../../shared/domain/records.js';
import { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack('payment-link-store');
});
afterAll(async () => {
  await stack?.stop();
});

function link(n: number): PaymentLink {
  return {
    id: `link-${String(n).padStart(4, '0')}`,
    operatorId: 'op-links',
    customerId: `c-${n}`,
    billId: `b-${n}`,
    broadcastId: 'bc-1',
    messageId: `m-${n}`,
    channel: 'sms',
    expiresAt: '2026-12-15T00:00:00.000Z',
    createdAt: '2026-12-01T00:00:00.000Z',
  };
}

describe('payment links in DynamoDB', () => {
  it('writes more than one batch of links and reads them back by id, missing ids absent', async () => {
    const links = Array.from({ length: 60 }, (_, i) => link(i));
    await store.putMany(links);
    const found = await store.getMany([...links.map((l) => l.id), 'link-unknown', links[0]!.id]);
    expect(found.size).toBe(60);
    expect(found.get('link-0042')).toEqual(links[42]);
    expect(found.has('link-unknown')).toBe(false);
    expect(await store.get('link-0007')).toEqual(links[7]);
    expect(await store.get('link-unknown')).toBeUndefined();
  });

  it('counts clicks, telling the first from the next, and keeps the first click time', async () => {
    await store.putMany([link(100)]);
    expect(await store.recordClick('link-0100', '2026-12-02T08:00:00.000Z', 'Mozilla/5.0 (Android)')).toEqual({ first: true });
    expect(await store.recordClick('link-0100', '2026-12-02T09:30:00.000Z', 'Mozilla/5.0 (iPhone)')).toEqual({ first: false });
    expect(await store.recordClick('link-0100', '2026-12-02T10:00:00.000Z', undefined)).toEqual({ first: false });
    expect(await store.get('link-0100')).toMatchObject({
      clicks: 3,
      firstClickAt: '2026-12-02T08:00:00.000Z',
      lastClickAt: '2026-12-02T10:00:00.000Z',
      userAgent: 'Mozilla/5.0 (iPhone)',
    });
  });

  it('keeps only the start of a long user agent', async () => {
    await store.putMany([link(101)]);
    await store.recordClick('link-0101', '2026-12-02T08:00:00.000Z', 'x'.repeat(5000));
    expect((await store.get('link-0101'))?.userAgent).toBe('x'.repeat(MAX_USER_AGENT_LENGTH));
  });

  it('records no click on a link that does not exist', async () => {
    expect(await store.recordClick('link-nowhere', '2026-12-02T08:00:00.000Z', 'ua')).toBeUndefined();
    expect(await store.get('link-nowhere')).toBeUndefined();
  });
});
