/**
 * The ISP's bills to its customers (issue 10: reminders and payment links need to know what is
 * owed), kept current by the billing system:
 *
 *   OP#<op>  CBILL#<id>    the bill
 *   gsi1: OP#<op>#CBILLS#<status> / <dueDate>#<id>      "unpaid, due on or before D" is one Query
 *   gsi2: OP#<op>#CUSTBILLS#<customerId> / <dueDate>#<id>  a customer's bills
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { CustomerBill } from '../../domain/records.js';
import type { CustomerBillFilter, CustomerBillStore } from '../../ports.js';
import { batchPut } from './batch-write.js';
import { batchGet } from './batch-get.js';
import { documentClient } from './client.js';
import { queryPage, stripKeys } from './query-page.js';

const billKey = (op: string, id: string) => ({ pk: `OP#${op}`, sk: `CBILL#${id}` });
const statusIndex = (op: string, status: string) => `OP#${op}#CBILLS#${status}`;
const customerIndex = (op: string, customerId: string) => `OP#${op}#CUSTBILLS#${customerId}`;

function toItem(operatorId: string, bill: CustomerBill) {
  return {
    ...billKey(operatorId, bill.id),
    entity: 'customerBill',
    gsi1pk: statusIndex(operatorId, bill.status),
    gsi1sk: `${bill.dueDate}#${bill.id}`,
    gsi2pk: customerIndex(operatorId, bill.customerId),
    gsi2sk: `${bill.dueDate}#${bill.id}`,
    ...bill,
  };
}

const fromItem = (item: Record<string, unknown>) => stripKeys<CustomerBill>(item);

export const dynamoCustomerBillStore: CustomerBillStore = {
  async get(operatorId, id) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: billKey(operatorId, id) }));
    return reply.Item ? fromItem(reply.Item) : undefined;
  },

  async getMany(operatorId, ids) {
    const items = await batchGet(ids.map((id) => billKey(operatorId, id)));
    return new Map(items.map(fromItem).map((bill) => [bill.id, bill]));
  },

  async put(operatorId, bill) {
    await documentClient().send(new PutCommand({ TableName: config().TABLE_NAME, Item: toItem(operatorId, bill) }));
  },

  async putMany(operatorId, bills) {
    await batchPut(bills.map((bill) => toItem(operatorId, bill)));
  },

  async list(operatorId, filter: CustomerBillFilter, limit, cursor) {
    // A customer's bills read their index (status filtered); otherwise a status is its own key range by due date.
    const byCustomer = filter.customerId !== undefined;
    const index = byCustomer ? 'gsi2' : 'gsi1';
    const partition = byCustomer
      ? { attribute: 'gsi2pk', value: customerIndex(operatorId, filter.customerId!) }
      : { attribute: 'gsi1pk', value: statusIndex(operatorId, filter.status ?? 'unpaid') };
    const sortAttribute = `${index}sk`;
    // Due dates are YYYY-MM-DD: "#" sorts before every id character, "~" after.
    const min = `${filter.dueAfter ?? '0000-00-00'}#`;
    const max = `${filter.dueBefore ?? '9999-99-99'}#~`;
    const names: Record<string, string> = { '#p': partition.attribute, '#s': sortAttribute };
    const values: Record<string, unknown> = { ':p': partition.value, ':min': min, ':max': max };
    let filterExpression: string | undefined;
    if (byCustomer && filter.status) {
      filterExpression = '#status = :status';
      names['#status'] = 'status';
      values[':status'] = filter.status;
    }
    return queryPage(
      {
        TableName: config().TABLE_NAME,
        IndexName: index,
        KeyConditionExpression: '#p = :p AND #s BETWEEN :min AND :max',
        FilterExpression: filterExpression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
      { limit, cursor, partition, keyAttributes: ['pk', 'sk', partition.attribute, sortAttribute], map: fromItem },
    );
  },
};
