/** Bills: OP#<op> / BILL#<id>, made once per period (the id is the period). */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { BillStore } from '../../ports.js';
import type { Bill } from '../../services/bills.js';
import { documentClient } from './client.js';
import { queryPage, stripKeys } from './query-page.js';

const billKey = (op: string, id: string) => ({ pk: `OP#${op}`, sk: `BILL#${id}` });

export const dynamoBillStore: BillStore = {
  async create(bill) {
    try {
      await documentClient().send(
        new PutCommand({ TableName: config().TABLE_NAME, Item: { ...billKey(bill.operatorId, bill.id), entity: 'bill', ...bill }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  },

  async get(operatorId, id) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: billKey(operatorId, id), ConsistentRead: true }));
    return reply.Item ? stripKeys<Bill>(reply.Item) : undefined;
  },

  async list(operatorId, limit, cursor) {
    const partition = { attribute: 'pk', value: `OP#${operatorId}` };
    return queryPage(
      {
        TableName: config().TABLE_NAME,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':p': partition.value, ':prefix': 'BILL#' },
        ScanIndexForward: false,
      },
      { limit, cursor, partition, keyAttributes: ['pk', 'sk'], map: (item) => stripKeys<Bill>(item) },
    );
  },

  async addPayment(operatorId, id, payment) {
    // Paid once the payments cover the total (an open bill only).
    const reply = await documentClient().send(
      new UpdateCommand({
        TableName: config().TABLE_NAME,
        Key: billKey(operatorId, id),
        UpdateExpression: 'SET paid = paid + :amount, payments = list_append(payments, :payment)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':amount': payment.amount, ':payment': [payment] },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const bill = stripKeys<Bill>(reply.Attributes!);
    if (bill.status === 'open' && bill.paid >= bill.total) {
      await documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: billKey(operatorId, id),
          UpdateExpression: 'SET #status = :paid, paidAt = :at',
          ConditionExpression: '#status = :open',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':paid': 'paid', ':open': 'open', ':at': payment.at },
        }),
      ).catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
      return { ...bill, status: 'paid' };
    }
    return bill;
  },
};
