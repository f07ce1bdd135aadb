import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { GatewayRate } from '../../ports.js';
import { documentClient } from './client.js';

/** A second's counter outlives its second by this much, then TTL deletes it. */
const KEPT_SECONDS = 120;

/** Tokens a process takes at once (a send group's worker sends up to a hundred at a time): one counter write for many sends. */
const LEASE_MAX = 50;
/** A gateway with a low limit leases fewer at once, so one process cannot take a second's whole share. */
const leaseSize = (maxPerSecond: number) => Math.max(1, Math.min(LEASE_MAX, Math.floor(maxPerSecond / 10)));

/** How far behind the leased second a send's clock may be and still spend its tokens. */
const LAG_SECONDS = 2;
/** This process's unused tokens per gateway, for the newest second it leased in (older seconds' are over). */
const leased = new Map<string, { second: number; remaining: number; pending?: Promise<void> }>();

async function add(gatewayId: string, second: number, count: number, maxPerSecond: number): Promise<boolean> {
  try {
    await documentClient().send(
      new UpdateCommand({
        TableName: config().TABLE_NAME,
        Key: { pk: `GW#${gatewayId}`, sk: `#RATE#${second}` },
        UpdateExpression: 'ADD sent :n SET #ttl = :ttl, entity = :entity',
        // Only while the second has room for all `count`: the limit holds however many workers send at once.
        ConditionExpression: 'attribute_not_exists(sent) OR sent <= :room',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':n': count, ':room': maxPerSecond - count, ':ttl': second + KEPT_SECONDS, ':entity': 'gatewayRate' },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * Messages per second per gateway, for every worker together: one counter item per gateway and
 * second, raised only while under the limit (a conditional ADD). A process takes a few tokens at
 * once and spends them within the same second (what it does not spend is lost with the second: the
 * gateway runs a little under its limit, never over it).
 */
export const dynamoGatewayRate: GatewayRate = {
  async take(gatewayId, maxPerSecond, now) {
    const asked = Math.floor(now.getTime() / 1000);
    let state = leased.get(gatewayId);
    if (!state) leased.set(gatewayId, (state = { second: asked, remaining: 0 }));
    for (;;) {
      // A second or two behind the lease: a send whose clock was read before a busy event loop let it
      // go on. It goes out now, so it counts in the newer second (its lease, or a new lease of it).
      const second = asked < state.second && state.second - asked <= LAG_SECONDS ? state.second : asked;
      // Further behind (a send that waited, a fixed clock): a token of its own second, not cached.
      if (second < state.second) return add(gatewayId, second, 1, maxPerSecond);
      // A new second: last second's tokens are over.
      if (state.second < second) {
        state.second = second;
        state.remaining = 0;
      }
      if (state.remaining > 0) {
        state.remaining--;
        return true;
      }
      if (state.pending) {
        // Another send of this process is taking tokens: wait for them.
        await state.pending;
        continue;
      }
      const leaseSecond = state.second;
      const size = leaseSize(maxPerSecond);
      let got = 0;
      const lease = (async () => {
        if (size > 1 && (await add(gatewayId, leaseSecond, size, maxPerSecond))) got = size;
        else if (await add(gatewayId, leaseSecond, 1, maxPerSecond)) got = 1;
      })();
      state.pending = lease;
      try {
        await lease;
      } finally {
        if (state.pending === lease) state.pending = undefined;
      }
      if (got === 0) return false;
      // This send spends one; the rest wait for the others of the same second.
      if (state.second === leaseSecond) state.remaining += got - 1;
      return true;
    }
  },
};
