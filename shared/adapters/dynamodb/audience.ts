/**
 * A broadcast's audience, read with Query on keys built for it, never a Scan: customers by the
 * status index (gsi1: OP#<op>#CUSTSTATUS#<status>), zone, package and reseller as filters; unpaid
 * bills by the status-and-due-date index (gsi1: OP#<op>#CBILLS#unpaid / <dueDate>#<id>); customers
 * whose service expires on a day by their expiry index items (OP#<op> / CEXP#<date>#<id>).
 */
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { Customer, CustomerBill } from '../../domain/records.js';
import type { AudienceQuery, AudienceReader } from '../../ports.js';
import { documentClient } from './client.js';
import { stripKeys } from './query-page.js';
import { key } from './table.js';

/** One Query per status (each a partition of the index); bills are one partition. */
function parts(operatorId: string, query: AudienceQuery): Array<Omit<QueryCommandInput, 'TableName'>> {
  if (query.source === 'expiring') {
    return [
      {
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':p': `OP#${operatorId}`, ':prefix': `CEXP#${query.on}#` },
      },
    ];
  }
  if (query.source === 'bills') {
    return [
      {
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p AND gsi1sk BETWEEN :min AND :max',
        ExpressionAttributeValues: { ':p': `OP#${operatorId}#CBILLS#unpaid`, ':min': `${query.dueFrom ?? '0000-00-00'}#`, ':max': `${query.dueTo ?? '9999-99-99'}#~` },
      },
    ];
  }
  const clauses: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  for (const field of ['zone', 'package', 'resellerId'] as const) {
    const wanted = query[field];
    if (!wanted || wanted.length === 0) continue;
    names[`#${field}`] = field;
    clauses.push(`#${field} IN (${wanted.map((_, i) => `:${field}${i}`).join(', ')})`);
    wanted.forEach((value, i) => (values[`:${field}${i}`] = value));
  }
  return query.statuses.map((status) => ({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :p AND begins_with(gsi1sk, :prefix)',
    ...(clauses.length ? { FilterExpression: clauses.join(' AND '), ExpressionAttributeNames: names } : {}),
    ExpressionAttributeValues: { ':p': key.customerStatusIndex(operatorId, status), ':prefix': 'CUST#', ...values },
  }));
}

function toRow(query: AudienceQuery, item: Record<string, unknown>) {
  if (query.source === 'expiring') return { customerId: String(item.customerId) };
  if (query.source === 'bills') return { bill: stripKeys<CustomerBill>(item) };
  const { searchName: _s, ...customer } = stripKeys<Customer & { searchName?: string }>(item);
  return { customer };
}

export const dynamoAudienceReader: AudienceReader = {
  async count(operatorId, query, options = {}) {
    let total = 0;
    for (const part of parts(operatorId, query)) {
      let startKey: Record<string, unknown> | undefined;
      do {
        if (options.deadline !== undefined && Date.now() >= options.deadline) return { count: total, complete: false };
        const reply = await documentClient().send(new QueryCommand({ TableName: config().TABLE_NAME, ...part, Select: 'COUNT', ExclusiveStartKey: startKey }));
        total += reply.Count ?? 0;
        startKey = reply.LastEvaluatedKey;
      } while (startKey);
    }
    return { count: total, complete: true };
  },

  async page(operatorId, query, cursor, limit) {
    const all = parts(operatorId, query);
    for (let part = cursor.part, startKey = cursor.key; part < all.length; part++, startKey = undefined) {
      const reply = await documentClient().send(new QueryCommand({ TableName: config().TABLE_NAME, ...all[part], Limit: limit, ExclusiveStartKey: startKey }));
      const rows = (reply.Items ?? []).map((item) => toRow(query, item));
      const next = reply.LastEvaluatedKey ? { part, key: reply.LastEvaluatedKey } : part + 1 < all.length ? { part: part + 1 } : undefined;
      // A page whose filter matched nothing still moves the planner on: it answers where to go next.
      return { rows, ...(next ? { next } : {}) };
    }
    return { rows: [] };
  },
};
