import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { GatewayRate } from '../../ports.js';
import { documentClient } from './client.js';

/** A second's counter outlives its second by this much, then TTL deletes it. */
const KEPT_SECONDS = 120;

/**
 * Messages per second per gateway, for every worker together: one counter item per gateway and
 * second, raised only while under the limit (a conditional ADD), so the limit holds however many
 * workers send at once.
 */
export const dynamoGatewayRate: GatewayRate = {
  async take(gatewayId, maxPerSecond, now) {
    const second = Math.floor(now.getTime() / 1000);
    try {
      await documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: { pk: `GW#${gatewayId}`, sk: `#RATE#${second}` },
          UpdateExpression: 'ADD sent :one SET #ttl = :ttl, entity = :entity',
          ConditionExpression: 'attribute_not_exists(sent) OR sent < :max',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':one': 1, ':max': maxPerSecond, ':ttl': second + KEPT_SECONDS, ':entity': 'gatewayRate' },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  },
};
