/**
 * A broadcast's estimate samples the audience with a filtered Query, whose Limit counts the rows it
 * read, not those the filter kept: a zone whose customers come late in the index must still be found.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api-client.js';
import { startDemoStack } from '../support/demo-stack.js';
import type { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  ({ stack, api } = await startDemoStack('broadcast-sample', { liftRateLimit: true }));
  // 150 active customers of one zone first in id order, then 3 of another.
  const customers = Array.from({ length: 153 }, (_, i) => ({
    id: `${i < 150 ? 'a' : 'z'}-${String(i + 1).padStart(3, '0')}`,
    name: `Sampled Customer ${i + 1}`,
    // Numbers ending 0300-0452: none of the sandbox's failure endings.
    mobile: `0171${String(3000300 + i).padStart(7, '0')}`,
    status: 'active',
    zone: i < 150 ? 'Gulshan' : 'Uttara-Far',
  }));
  expect((await api.post('/v1/customers/import', { customers })).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('a broadcast estimate', () => {
  it('finds a zone whose customers come after more than a page of others', async () => {
    const reply = await api.post('/v1/broadcasts', { filter: { zone: ['Uttara-Far'], status: ['active'] }, channel: 'sms', text: 'Outage tonight in your area.', dryRun: true });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ recipients: 3, segments: 3 });
    expect(reply.body.samples.map((s: { customerId: string }) => s.customerId).sort()).toEqual(['z-151', 'z-152', 'z-153']);
  });
});
