import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { GatewayRate } from '../../ports.js';
import { documentClient } from './client.js';

/** A second's counter outlives its second by this much, then TTL deletes it. */
const KEPT_SECONDS = 120;

/** Tokens a process takes at once (a send batch is 10): one counter write for several sends. */
const LEASE_MAX = 10;
/** A gateway with a low limit leases fewer at once, so one process cannot take a second's whole share. */
const leaseSize = (maxPerSecond: number) => Math.max(1, Math.min(LEASE_MAX, Math.floor(maxPerSecond / 10)));

/** This process's unused tokens, per gateway and second (only the current second's are kept). */
const leased = new Map<string, { remaining: number; pending?: Promise<void> }>();

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
    const second = Math.floor(now.getTime() / 1000);
    const key = `${gatewayId}#${second}`;
    for (;;) {
      const lease = leased.get(key);
      if (lease && lease.remaining > 0) {
        lease.remaining--;
        return true;
      }
      if (lease?.pending) {
        // Another send of this process is taking tokens for this second: wait for them.
        await lease.pending;
        continue;
      }
      // A new second: forget the others (they are over).
      for (const old of leased.keys()) if (old.startsWith(`${gatewayId}#`) && old !== key) leased.delete(old);
      const entry = lease ?? { remaining: 0 };
      leased.set(key, entry);
      const size = leaseSize(maxPerSecond);
      let got = 0;
      entry.pending = (async () => {
        if (size > 1 && (await add(gatewayId, second, size, maxPerSecond))) got = size;
        else if (await add(gatewayId, second, 1, maxPerSecond)) got = 1;
      })();
      try {
        await entry.pending;
      } finally {
        entry.pending = undefined;
      }
      if (got === 0) return false;
      entry.remaining += got - 1;
      return true;
    }
  },
};
