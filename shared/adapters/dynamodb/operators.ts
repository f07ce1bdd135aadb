import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
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

  async update(operatorId, changes, expected) {
    const sets: string[] = [];
    const removes: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    Object.entries(changes).forEach(([field, value], i) => {
      if (value === undefined) return;
      // Field names come from the Operator type, never from a request; still, only plain names pass.
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(field) || field === 'id' || field === 'createdAt') throw new Error(`Cannot update operator field "${field}".`);
      names[`#f${i}`] = field;
      if (value === null) removes.push(`#f${i}`);
      else {
        sets.push(`#f${i} = :v${i}`);
        values[`:v${i}`] = value;
      }
    });
    if (sets.length === 0 && removes.length === 0) return dynamoOperatorStore.get(operatorId);
    const conditions = ['attribute_exists(pk)'];
    Object.entries(expected ?? {}).forEach(([field, value], i) => {
      if (value === undefined) return;
      names[`#e${i}`] = field;
      values[`:e${i}`] = value;
      conditions.push(`#e${i} = :e${i}`);
    });
    try {
      const reply = await documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: key.operator(operatorId),
          UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].join(' ').trim(),
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return stripKeys<Operator>(reply.Attributes!);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
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
