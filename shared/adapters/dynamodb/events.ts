/**
 * Received events and event rules:
 *
 *   OP#<op>  EVENT#<id>        the event's fingerprint, its rule as it was, its result (ttl: 30 days)
 *   OP#<op>  EVENTRULE#<type>  the operator's rule for an event type
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { EventRecord, EventRule, EventRuleStore, EventStore } from '../../ports.js';
import { documentClient } from './client.js';
import { stripKeys } from './query-page.js';

/** How long an event id is remembered: billing systems retry within hours; a month leaves room for an outage. */
export const EVENT_TTL_SECONDS = 30 * 24 * 3600;

const eventKey = (op: string, id: string) => ({ pk: `OP#${op}`, sk: `EVENT#${id}` });
const ruleKey = (op: string, type: string) => ({ pk: `OP#${op}`, sk: `EVENTRULE#${type}` });

const fromEventItem = (item: Record<string, unknown>): EventRecord => {
  const { finishedAt: _finishedAt, ...record } = stripKeys<EventRecord & { finishedAt?: string }>(item);
  return record;
};

async function getEvent(operatorId: string, id: string): Promise<EventRecord | undefined> {
  // Strongly consistent: a repeat right after the first must see its record.
  const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: eventKey(operatorId, id), ConsistentRead: true }));
  return reply.Item ? fromEventItem(reply.Item) : undefined;
}

export const dynamoEventStore: EventStore = {
  get: getEvent,

  async begin(operatorId, record) {
    const ttl = Math.floor(Date.parse(record.receivedAt) / 1000) + EVENT_TTL_SECONDS;
    try {
      await documentClient().send(
        new PutCommand({
          TableName: config().TABLE_NAME,
          Item: { ...eventKey(operatorId, record.id), entity: 'event', ...record, ttl },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    return { created: false, existing: (await getEvent(operatorId, record.id))! };
  },

  async finish(operatorId, id, result, at) {
    try {
      const reply = await documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: eventKey(operatorId, id),
          UpdateExpression: 'SET #state = :done, #result = :result, finishedAt = :at',
          ConditionExpression: '#state = :pending',
          ExpressionAttributeNames: { '#state': 'state', '#result': 'result' },
          ExpressionAttributeValues: { ':done': 'done', ':pending': 'pending', ':result': result, ':at': at },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { record: fromEventItem(reply.Attributes!), finishedNow: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    // Another attempt finished first: its result is the answer.
    return { record: (await getEvent(operatorId, id))!, finishedNow: false };
  },
};

export const dynamoEventRuleStore: EventRuleStore = {
  async put(operatorId, rule) {
    await documentClient().send(new PutCommand({ TableName: config().TABLE_NAME, Item: { ...ruleKey(operatorId, rule.type), entity: 'eventRule', ...rule } }));
  },

  async get(operatorId, type) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: ruleKey(operatorId, type) }));
    return reply.Item ? stripKeys<EventRule>(reply.Item) : undefined;
  },

  async list(operatorId) {
    const reply = await documentClient().send(
      new QueryCommand({
        TableName: config().TABLE_NAME,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':p': `OP#${operatorId}`, ':prefix': 'EVENTRULE#' },
      }),
    );
    return (reply.Items ?? []).map((item) => stripKeys<EventRule>(item));
  },
};
