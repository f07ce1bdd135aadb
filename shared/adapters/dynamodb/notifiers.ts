/** An operator's reminder ladders: OP#<op> NOTIFIER#<kind>. */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { Notifier } from '../../domain/records.js';
import type { NotifierStore } from '../../ports.js';
import { documentClient } from './client.js';
import { stripKeys } from './query-page.js';

const notifierKey = (op: string, kind: string) => ({ pk: `OP#${op}`, sk: `NOTIFIER#${kind}` });

export const dynamoNotifierStore: NotifierStore = {
  async get(operatorId, kind) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: notifierKey(operatorId, kind), ConsistentRead: true }));
    return reply.Item ? stripKeys<Notifier>(reply.Item) : undefined;
  },
  async put(operatorId, notifier) {
    await documentClient().send(new PutCommand({ TableName: config().TABLE_NAME, Item: { ...notifierKey(operatorId, notifier.kind), entity: 'notifier', ...notifier } }));
  },
};
