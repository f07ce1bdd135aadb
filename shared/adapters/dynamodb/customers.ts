import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { Customer } from '../../domain/records.js';
import type { CustomerFilter, CustomerStore } from '../../ports.js';
import { batchGet } from './batch-get.js';
import { batchPut } from './batch-write.js';
import { documentClient } from './client.js';
import { queryPage, stripKeys } from './query-page.js';
import { key } from './table.js';

function toItem(operatorId: string, customer: Customer) {
  return {
    ...key.customer(operatorId, customer.id),
    gsi1pk: key.customerStatusIndex(operatorId, customer.status),
    gsi1sk: `CUST#${customer.id}`,
    // Finding a customer by a number that wrote to us: the mobile in gsi2, the WhatsApp number in gsi3 (sparse entries).
    gsi2pk: key.customerNumberIndex(operatorId, customer.mobile),
    gsi2sk: `CUST#${customer.id}`,
    ...(customer.whatsapp ? { gsi3pk: key.customerNumberIndex(operatorId, customer.whatsapp), gsi3sk: `CUST#${customer.id}` } : {}),
    entity: 'customer',
    // Lower-cased copies make the text search case-insensitive.
    searchName: customer.name.toLowerCase(),
    ...customer,
  };
}

/**
 * "Whose service expires on D" as a key: an index item per customer and expiry date (the date as
 * written in expiresAt), kept until two months after it. A renewal writes a new one; the old one is
 * left to expire, and an expiry reminder checks the customer's current expiresAt before it sends.
 */
export const expiryIndexKey = (op: string, date: string, customerId: string) => ({ pk: `OP#${op}`, sk: `CEXP#${date}#${customerId}` });
const EXPIRY_INDEX_KEPT_SECONDS = 60 * 24 * 60 * 60;

function expiryIndexItem(operatorId: string, customer: Customer) {
  if (!customer.expiresAt) return undefined;
  const date = customer.expiresAt.slice(0, 10);
  const ttl = Math.floor(Date.parse(`${date}T00:00:00Z`) / 1000) + EXPIRY_INDEX_KEPT_SECONDS;
  return { ...expiryIndexKey(operatorId, date, customer.id), entity: 'customerExpiry', customerId: customer.id, ttl };
}

function fromItem(item: Record<string, unknown>): Customer {
  const { searchName: _s, ...customer } = stripKeys<Customer & { searchName?: string }>(item);
  return customer;
}

export const dynamoCustomerStore: CustomerStore = {
  async get(operatorId, id) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: key.customer(operatorId, id) }));
    return reply.Item ? fromItem(reply.Item) : undefined;
  },

  async getMany(operatorId, ids, options) {
    const items = await batchGet(ids.map((id) => key.customer(operatorId, id)), options);
    return new Map(items.map((item) => fromItem(item)).map((customer) => [customer.id, customer]));
  },

  async put(operatorId, customer) {
    await documentClient().send(new PutCommand({ TableName: config().TABLE_NAME, Item: toItem(operatorId, customer) }));
    const expiry = expiryIndexItem(operatorId, customer);
    if (expiry) await documentClient().send(new PutCommand({ TableName: config().TABLE_NAME, Item: expiry }));
  },

  async putMany(operatorId, customers) {
    await batchPut([...customers.map((c) => toItem(operatorId, c)), ...customers.flatMap((c) => expiryIndexItem(operatorId, c) ?? [])]);
  },

  async create(operatorId, customer) {
    try {
      await documentClient().send(new PutCommand({ TableName: config().TABLE_NAME, Item: toItem(operatorId, customer), ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  },

  async update(operatorId, id, changes, seenUpdatedAt) {
    const sets = ['updatedAt = :updatedAt'];
    const values: Record<string, unknown> = { ':updatedAt': changes.updatedAt, ':seen': seenUpdatedAt };
    if (changes.status !== undefined) {
      // The status index key moves with the status.
      sets.push('#status = :status', 'gsi1pk = :statusIndex');
      Object.assign(values, { ':status': changes.status, ':statusIndex': key.customerStatusIndex(operatorId, changes.status) });
    }
    if (changes.expiresAt !== undefined) {
      sets.push('expiresAt = :expiresAt');
      values[':expiresAt'] = changes.expiresAt;
    }
    try {
      const reply = await documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: key.customer(operatorId, id),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'updatedAt = :seen',
          ...(changes.status !== undefined ? { ExpressionAttributeNames: { '#status': 'status' } } : {}),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return reply.Attributes ? fromItem(reply.Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  },

  async findByNumber(operatorId, number) {
    // Mobile first, then WhatsApp number; the oldest customer id wins when two share a number.
    for (const index of ['gsi2', 'gsi3'] as const) {
      const reply = await documentClient().send(
        new QueryCommand({
          TableName: config().TABLE_NAME,
          IndexName: index,
          KeyConditionExpression: '#p = :p AND begins_with(#s, :prefix)',
          ExpressionAttributeNames: { '#p': `${index}pk`, '#s': `${index}sk` },
          ExpressionAttributeValues: { ':p': key.customerNumberIndex(operatorId, number), ':prefix': 'CUST#' },
          Limit: 1,
        }),
      );
      const found = reply.Items?.[0];
      if (found) return this.get(operatorId, String(found.sk).slice('CUST#'.length));
    }
    return undefined;
  },

  async list(operatorId, filter, limit, cursor) {
    const { expression, names, values } = filterExpression(filter);
    // A status filter reads the status index; otherwise the operator's customer range.
    const byStatus = filter.status !== undefined;
    const partition = byStatus
      ? { attribute: 'gsi1pk', value: key.customerStatusIndex(operatorId, filter.status!) }
      : { attribute: 'pk', value: `OP#${operatorId}` };
    return queryPage(
      {
        TableName: config().TABLE_NAME,
        IndexName: byStatus ? 'gsi1' : undefined,
        KeyConditionExpression: `#p = :p AND begins_with(#s, :prefix)`,
        FilterExpression: expression,
        ExpressionAttributeNames: { '#p': partition.attribute, '#s': byStatus ? 'gsi1sk' : 'sk', ...names },
        ExpressionAttributeValues: { ':p': partition.value, ':prefix': 'CUST#', ...values },
      },
      {
        limit,
        cursor,
        partition,
        keyAttributes: byStatus ? ['pk', 'sk', 'gsi1pk', 'gsi1sk'] : ['pk', 'sk'],
        map: fromItem,
      },
    );
  },
};

function filterExpression(filter: CustomerFilter) {
  const clauses: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, string> = {};
  for (const field of ['zone', 'package', 'resellerId'] as const) {
    const value = filter[field];
    if (value === undefined) continue;
    clauses.push(`#f_${field} = :f_${field}`);
    names[`#f_${field}`] = field;
    values[`:f_${field}`] = value;
  }
  if (filter.q) {
    clauses.push('(contains(#searchName, :q) OR contains(#mobile, :qRaw))');
    names['#searchName'] = 'searchName';
    names['#mobile'] = 'mobile';
    values[':q'] = filter.q.toLowerCase();
    values[':qRaw'] = filter.q.replace(/[\s()-]/g, '');
  }
  return {
    expression: clauses.length ? clauses.join(' AND ') : undefined,
    names,
    values,
  };
}
