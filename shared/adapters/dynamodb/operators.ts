import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { Operator } from '../../domain/records.js';
import { PLATFORM_OWNER, type ApiKeyRecord, type OperatorStore } from '../../ports.js';
import { documentClient } from './client.js';
import { queryPage, stripKeys } from './query-page.js';
import { key } from './table.js';

export const dynamoOperatorStore: OperatorStore = {
  async get(operatorId) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: key.operator(operatorId) }));
    return reply.Item ? stripKeys<Operator>(reply.Item) : undefined;
  },

  async put(operator) {
    await documentClient().send(
      // In the operators index too: the platform lists them with a Query.
      new PutCommand({ TableName: config().TABLE_NAME, Item: { ...key.operator(operator.id), entity: 'operator', gsi1pk: 'OPERATORS', gsi1sk: `OP#${operator.id}`, ...operator } }),
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
    const record = await this.keyFor(keyHash);
    return record && record.ownerId !== PLATFORM_OWNER ? record.ownerId : undefined;
  },

  async putApiKey(keyHash, operatorId, label) {
    await this.putKey(keyHash, { id: keyHash.slice(0, 16), ownerId: operatorId, role: 'admin', label, last4: '', createdAt: new Date().toISOString() });
  },

  async keyFor(keyHash) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: key.apiKey(keyHash) }));
    const item = reply.Item;
    if (!item) return undefined;
    // Keys made before roles: an operator's admin key.
    const ownerId = typeof item.ownerId === 'string' ? item.ownerId : typeof item.operatorId === 'string' ? item.operatorId : undefined;
    if (!ownerId) return undefined;
    return {
      id: typeof item.keyId === 'string' ? item.keyId : keyHash.slice(0, 16),
      ownerId,
      role: (item.role as ApiKeyRecord['role'] | undefined) ?? 'admin',
      ...(typeof item.resellerId === 'string' ? { resellerId: item.resellerId } : {}),
      label: String(item.label ?? ''),
      last4: String(item.last4 ?? ''),
      createdAt: String(item.createdAt ?? ''),
    };
  },

  async putKey(keyHash, record) {
    const { id, ...rest } = record;
    await documentClient().send(
      new PutCommand({
        TableName: config().TABLE_NAME,
        Item: {
          ...key.apiKey(keyHash),
          entity: 'apiKey',
          keyId: id,
          ...rest,
          // Older readers look for operatorId.
          ...(record.ownerId !== PLATFORM_OWNER ? { operatorId: record.ownerId } : {}),
          gsi1pk: key.ownerKeysIndex(record.ownerId),
          gsi1sk: `KEY#${id}`,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  },

  async listKeys(ownerId) {
    const reply = await documentClient().send(
      new QueryCommand({
        TableName: config().TABLE_NAME,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p AND begins_with(gsi1sk, :prefix)',
        ExpressionAttributeValues: { ':p': key.ownerKeysIndex(ownerId), ':prefix': 'KEY#' },
      }),
    );
    return (reply.Items ?? []).map((item) => ({
      id: String(item.keyId),
      ownerId,
      role: item.role as ApiKeyRecord['role'],
      ...(typeof item.resellerId === 'string' ? { resellerId: item.resellerId } : {}),
      label: String(item.label ?? ''),
      last4: String(item.last4 ?? ''),
      createdAt: String(item.createdAt ?? ''),
    }));
  },

  async deleteKey(ownerId, keyId) {
    const reply = await documentClient().send(
      new QueryCommand({
        TableName: config().TABLE_NAME,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p AND gsi1sk = :sk',
        ExpressionAttributeValues: { ':p': key.ownerKeysIndex(ownerId), ':sk': `KEY#${keyId}` },
      }),
    );
    const found = reply.Items?.[0];
    if (!found) return false;
    await documentClient().send(new DeleteCommand({ TableName: config().TABLE_NAME, Key: { pk: found.pk, sk: found.sk } }));
    return true;
  },

  async list(limit, cursor) {
    const partition = { attribute: 'gsi1pk', value: 'OPERATORS' };
    return queryPage(
      {
        TableName: config().TABLE_NAME,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': 'OPERATORS' },
      },
      { limit, cursor, partition, keyAttributes: ['pk', 'sk', 'gsi1pk', 'gsi1sk'], map: (item) => stripKeys<Operator>(item) },
    );
  },
};
