/** Alert routes (ALERTROUTE#<purpose>) and the one-minute collapse of repeated alerts. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { AlertRoute, AlertRouteStore } from '../../ports.js';
import { documentClient } from './client.js';
import { stripKeys } from './query-page.js';
import { key } from './table.js';

/** Repeats of one alert within this long are collapsed into the first. */
export const COLLAPSE_WINDOW_MS = 60 * 1000;

export const dynamoAlertRouteStore: AlertRouteStore = {
  async put(operatorId, route) {
    await documentClient().send(new PutCommand({ TableName: config().TABLE_NAME, Item: { ...key.alertRoute(operatorId, route.purpose), entity: 'alertRoute', ...route } }));
  },

  async get(operatorId, purpose) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: key.alertRoute(operatorId, purpose), ConsistentRead: true }));
    return reply.Item ? stripKeys<AlertRoute>(reply.Item) : undefined;
  },

  async list(operatorId) {
    const reply = await documentClient().send(
      new QueryCommand({
        TableName: config().TABLE_NAME,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':p': `OP#${operatorId}`, ':prefix': 'ALERTROUTE#' },
      }),
    );
    return (reply.Items ?? []).map((item) => stripKeys<AlertRoute>(item));
  },

  async collapse(operatorId, purpose, fingerprint, now, messageId) {
    const TableName = config().TABLE_NAME;
    const Key = { pk: `OP#${operatorId}`, sk: `ALERTSEEN#${purpose}#${fingerprint}` };
    const windowStart = new Date(now.getTime() - COLLAPSE_WINDOW_MS).toISOString();
    try {
      // A new window: only when there is none, or the last one began more than a minute ago.
      await documentClient().send(
        new PutCommand({
          TableName,
          Item: { ...Key, entity: 'alertSeen', firstAt: now.toISOString(), messageId, count: 1, ttl: Math.floor(now.getTime() / 1000) + 3600 },
          ConditionExpression: 'attribute_not_exists(pk) OR firstAt < :windowStart',
          ExpressionAttributeValues: { ':windowStart': windowStart },
        }),
      );
      return { first: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const reply = await documentClient().send(
      new UpdateCommand({ TableName, Key, UpdateExpression: 'ADD #count :one', ExpressionAttributeNames: { '#count': 'count' }, ExpressionAttributeValues: { ':one': 1 }, ReturnValues: 'ALL_NEW' }),
    );
    return { first: false, messageId: String(reply.Attributes?.messageId), count: Number(reply.Attributes?.count) };
  },
};
