/**
 * Erasing a customer's personal data (rare: an UpdateItem per message is fine).
 *   erasure record  OP#<op>   ERASED#CUST#<id>   erasedAt   (no personal data: proof the erasure ran)
 * Messages are found through the customer-messages index (gsi4 OP#<op>#CUST#<id>, keys only), and
 * the customer's broadcast messages (not in that index) by their ids derived from each of the
 * operator's broadcasts, however old (customer-broadcast-messages.ts).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { ErasureStore } from '../../ports.js';
import { documentClient } from './client.js';
import { customerBroadcastMessageIds } from './customer-broadcast-messages.js';
import { key } from './table.js';

const erasureKey = (op: string, customerId: string) => ({ pk: `OP#${op}`, sk: `ERASED#CUST#${customerId}` });

export const dynamoErasureStore: ErasureStore = {
  async *customerMessageIds(operatorId, customerId) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const reply = await documentClient().send(
        new QueryCommand({
          TableName: config().TABLE_NAME,
          IndexName: 'gsi4',
          KeyConditionExpression: 'gsi4pk = :p AND begins_with(gsi4sk, :msg)',
          ExpressionAttributeValues: { ':p': key.customerMessagesIndex(operatorId, customerId), ':msg': 'MSG#' },
          ProjectionExpression: 'pk, sk',
          ExclusiveStartKey: startKey,
          Limit: 100,
        }),
      );
      const ids = (reply.Items ?? []).map((item) => String(item.sk).slice('MSG#'.length));
      if (ids.length > 0) yield ids;
      startKey = reply.LastEvaluatedKey;
    } while (startKey);
    yield* customerBroadcastMessageIds(operatorId, customerId);
  },

  async eraseMessage(operatorId, messageId, erased) {
    try {
      await documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: key.message(operatorId, messageId),
          // The WhatsApp parameters and sealed content carry the same personal data as the text.
          UpdateExpression: 'SET #to = :to, #text = :text, erasedAt = :at REMOVE whatsappTemplate, sealedContent, #from',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(erasedAt)',
          ExpressionAttributeNames: { '#to': 'to', '#text': 'text', '#from': 'from' },
          ExpressionAttributeValues: { ':to': erased.to, ':text': erased.text, ':at': erased.erasedAt },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  },

  async deleteCustomer(operatorId, customerId, erasedAt) {
    const TableName = config().TABLE_NAME;
    await documentClient().send(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName, Key: key.customer(operatorId, customerId) } },
          { Put: { TableName, Item: { ...erasureKey(operatorId, customerId), entity: 'customerErasure', customerId, erasedAt } } },
        ],
      }),
    );
  },

  async erasedAt(operatorId, customerId) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: erasureKey(operatorId, customerId), ConsistentRead: true }));
    return typeof reply.Item?.erasedAt === 'string' ? reply.Item.erasedAt : undefined;
  },
};
