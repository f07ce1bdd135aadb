/** The operator's suppression list: one item per address or number (SUPP#<kind>#<address>). */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { Suppression, SuppressionStore } from '../../ports.js';
import { documentClient } from './client.js';
import { queryPage, stripKeys } from './query-page.js';
import { key } from './table.js';

export const dynamoSuppressionStore: SuppressionStore = {
  async put(operatorId, suppression) {
    await documentClient().send(
      new PutCommand({ TableName: config().TABLE_NAME, Item: { ...key.suppression(operatorId, suppression.kind, suppression.address), entity: 'suppression', ...suppression } }),
    );
  },

  async get(operatorId, kind, address) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: key.suppression(operatorId, kind, address), ConsistentRead: true }));
    return reply.Item ? stripKeys<Suppression>(reply.Item) : undefined;
  },

  async delete(operatorId, kind, address) {
    try {
      await documentClient().send(
        new DeleteCommand({ TableName: config().TABLE_NAME, Key: key.suppression(operatorId, kind, address), ConditionExpression: 'attribute_exists(pk)' }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  },

  async list(operatorId, limit, cursor) {
    const partition = { attribute: 'pk', value: `OP#${operatorId}` };
    return queryPage(
      {
        TableName: config().TABLE_NAME,
        KeyConditionExpression: '#p = :p AND begins_with(#s, :prefix)',
        ExpressionAttributeNames: { '#p': 'pk', '#s': 'sk' },
        ExpressionAttributeValues: { ':p': partition.value, ':prefix': 'SUPP#' },
      },
      { limit, cursor, partition, keyAttributes: ['pk', 'sk'], map: (item) => stripKeys<Suppression>(item) },
    );
  },
};
