import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { Operator } from '../../domain/records.js';
import type { OperatorStore } from '../../ports.js';
import { documentClient } from './client.js';
import { stripKeys } from './query-page.js';
import { key } from './table.js';

export const dynamoOperatorStore: OperatorStore = {
  async get(operatorId) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: key.operator(operatorId) }));
    return reply.Item ? stripKeys<Operator>(reply.Item) : undefined;
  },

  async put(operator) {
    await documentClient().send(
      new PutCommand({ TableName: config().TABLE_NAME, Item: { ...key.operator(operator.id), entity: 'operator', ...operator } }),
    );
  },

  async operatorIdForKey(keyHash) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: key.apiKey(keyHash) }));
    return typeof reply.Item?.operatorId === 'string' ? reply.Item.operatorId : undefined;
  },

  async putApiKey(keyHash, operatorId, label) {
    await documentClient().send(
      new PutCommand({
        TableName: config().TABLE_NAME,
        Item: { ...key.apiKey(keyHash), entity: 'apiKey', operatorId, label, createdAt: new Date().toISOString() },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  },
};
