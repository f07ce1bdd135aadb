import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import { idRangeAt } from '../../domain/ids.js';
import { allowedPredecessors, type Message } from '../../domain/records.js';
import type { MessageStore } from '../../ports.js';
import { documentClient } from './client.js';
import { queryPage, stripKeys } from './query-page.js';
import { key } from './table.js';

/** How long a POST with an Idempotency-Key is remembered. */
const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

function toItem(message: Message) {
  return {
    ...key.message(message.operatorId, message.id),
    ...(message.customerId
      ? { gsi1pk: key.customerMessagesIndex(message.operatorId, message.customerId), gsi1sk: `MSG#${message.id}` }
      : {}),
    entity: 'message',
    ...message,
  };
}

const fromItem = (item: Record<string, unknown>) => stripKeys<Message>(item);

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed'));

export const dynamoMessageStore: MessageStore = {
  async create(message, idempotency) {
    const TableName = config().TABLE_NAME;
    const put = { TableName, Item: toItem(message), ConditionExpression: 'attribute_not_exists(pk)' };
    if (!idempotency) {
      await documentClient().send(new PutCommand(put));
      return { created: true, message };
    }
    const now = Math.floor(Date.parse(message.createdAt) / 1000);
    const idemKey = key.idempotency(message.operatorId, 'messages', idempotency.key);
    try {
      await documentClient().send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: put },
            {
              Put: {
                TableName,
                Item: { ...idemKey, entity: 'idempotency', messageId: message.id, fingerprint: idempotency.fingerprint, ttl: now + IDEMPOTENCY_TTL_SECONDS },
                // An expired record may linger until TTL deletes it; it no longer counts.
                ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
                ExpressionAttributeNames: { '#ttl': 'ttl' },
                ExpressionAttributeValues: { ':now': now },
              },
            },
          ],
        }),
      );
      return { created: true, message };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = await documentClient().send(new GetCommand({ TableName, Key: idemKey, ConsistentRead: true }));
      if (typeof existing.Item?.messageId !== 'string') throw error;
      return { created: false, existingMessageId: existing.Item.messageId, sameRequest: existing.Item.fingerprint === idempotency.fingerprint };
    }
  },

  async get(operatorId, id) {
    const reply = await documentClient().send(
      new GetCommand({ TableName: config().TABLE_NAME, Key: key.message(operatorId, id), ConsistentRead: true }),
    );
    return reply.Item ? fromItem(reply.Item) : undefined;
  },

  async list(operatorId, filter, limit, cursor) {
    const min = filter.from ? idRangeAt(new Date(filter.from)).min : '0';
    const max = filter.to ? idRangeAt(new Date(filter.to)).max : 'Z';
    const byCustomer = filter.customerId !== undefined;
    const partition = byCustomer
      ? { attribute: 'gsi1pk', value: key.customerMessagesIndex(operatorId, filter.customerId!) }
      : { attribute: 'pk', value: `OP#${operatorId}` };
    const clauses: string[] = [];
    const names: Record<string, string> = { '#p': partition.attribute, '#s': byCustomer ? 'gsi1sk' : 'sk' };
    const values: Record<string, unknown> = { ':p': partition.value, ':min': `MSG#${min}`, ':max': `MSG#${max}` };
    if (filter.status) {
      clauses.push('#status = :status');
      names['#status'] = 'status';
      values[':status'] = filter.status;
    }
    if (filter.channel) {
      clauses.push('#channel = :channel');
      names['#channel'] = 'channel';
      values[':channel'] = filter.channel;
    }
    return queryPage(
      {
        TableName: config().TABLE_NAME,
        IndexName: byCustomer ? 'gsi1' : undefined,
        KeyConditionExpression: '#p = :p AND #s BETWEEN :min AND :max',
        FilterExpression: clauses.length ? clauses.join(' AND ') : undefined,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
      },
      { limit, cursor, partition, keyAttributes: byCustomer ? ['pk', 'sk', 'gsi1pk', 'gsi1sk'] : ['pk', 'sk'], map: fromItem },
    );
  },

  async claim(operatorId, id, until, now) {
    try {
      const reply = await documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: key.message(operatorId, id),
          UpdateExpression: 'SET claimedUntil = :until, attempts = attempts + :one, updatedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND #status = :queued AND attribute_not_exists(claimedUntil)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':until': until, ':now': now, ':one': 1, ':queued': 'queued' },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true, message: fromItem(reply.Attributes!) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (!error.Item) return { ok: false, reason: 'not-found' };
      const current = fromItem(unmarshall(error.Item));
      if (current.status !== 'queued') return { ok: false, reason: 'not-queued', message: current };
      return { ok: false, reason: (current.claimedUntil ?? '') > now ? 'claimed' : 'claim-expired', message: current };
    }
  },

  async release(operatorId, id, error, now) {
    try {
      await documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: key.message(operatorId, id),
          UpdateExpression: 'REMOVE claimedUntil SET lastError = :error, updatedAt = :now',
          ConditionExpression: '#status = :queued',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':error': error, ':now': now, ':queued': 'queued' },
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  },

  async transition(operatorId, id, change, extra = {}) {
    const TableName = config().TABLE_NAME;
    const predecessors = allowedPredecessors(change.status);
    const values: Record<string, unknown> = { ':status': change.status, ':entry': [change], ':at': change.at };
    predecessors.forEach((status, i) => (values[`:from${i}`] = status));
    const sets = ['#status = :status', 'history = list_append(history, :entry)', 'updatedAt = :at'];
    if (extra.providerMessageId) {
      sets.push('providerMessageId = :pid');
      values[':pid'] = extra.providerMessageId;
    }
    const update: UpdateCommandInput = {
      TableName,
      Key: key.message(operatorId, id),
      UpdateExpression: `SET ${sets.join(', ')} REMOVE claimedUntil`,
      ConditionExpression: `attribute_exists(pk) AND #status IN (${predecessors.map((_, i) => `:from${i}`).join(', ')})`,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: values,
    };
    try {
      if (extra.providerMessageId && extra.gatewayId) {
        // The pointer is written with the status, so a receipt that finds it finds a sent message.
        await documentClient().send(
          new TransactWriteCommand({
            TransactItems: [
              { Update: update as Required<Pick<UpdateCommandInput, 'UpdateExpression'>> & UpdateCommandInput },
              {
                Put: {
                  TableName,
                  Item: {
                    ...key.providerMessage(extra.gatewayId, extra.providerMessageId),
                    entity: 'providerMessage',
                    operatorId,
                    messageId: id,
                  },
                },
              },
            ],
          }),
        );
      } else {
        await documentClient().send(new UpdateCommand(update));
      }
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  },

  async findByProviderId(gatewayId, providerMessageId) {
    const reply = await documentClient().send(
      new GetCommand({ TableName: config().TABLE_NAME, Key: key.providerMessage(gatewayId, providerMessageId), ConsistentRead: true }),
    );
    const item = reply.Item;
    if (typeof item?.operatorId !== 'string' || typeof item.messageId !== 'string') return undefined;
    return { operatorId: item.operatorId, messageId: item.messageId };
  },
};
