/**
 * Broadcasts, their counters and their expand pages:
 *
 *   OP#<op>  BCAST#<id>                  the broadcast (state, plan step, estimate)
 *   OP#<op>  BCOUNT#<id>#<shard>         counters, kept from the table's stream (broadcast-counters.ts)
 *   OP#<op>  BPAGE#<id>#<page>           an expand page's claim, then "done"
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { Broadcast } from '../../domain/records.js';
import type { BroadcastStore } from '../../ports.js';
import { applyStreamCounts, broadcastKey, MESSAGES_WRITTEN, readCounts } from './broadcast-counters.js';
import { documentClient } from './client.js';
import { startedBroadcastKeys } from './customer-broadcast-messages.js';
import { queryPage, stripKeys } from './query-page.js';

export { COUNTER_SHARDS, RATE_WINDOW_SECONDS } from './broadcast-counters.js';

const pageKey = (op: string, id: string, page: number) => ({ pk: `OP#${op}`, sk: `BPAGE#${id}#${String(page).padStart(6, '0')}` });

/** The messages written are the counters' business (see readCounts), not the broadcast's view. */
const fromItem = (item: Record<string, unknown>) => {
  const { [MESSAGES_WRITTEN]: _written, ...rest } = item;
  return stripKeys<Broadcast>(rest);
};

const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException;

/**
 * A broadcast started before started broadcasts were indexed, still being written (its next update
 * comes after each page): indexed once, so its messages written from now on (without a customer-index
 * entry) are found. One write, once; an indexed broadcast's updates write no index.
 */
async function indexIfStartedBefore(item: Record<string, unknown>): Promise<void> {
  if (typeof item.messagePrefix !== 'string' || item.gsi4pk !== undefined) return;
  const keys = startedBroadcastKeys(String(item.operatorId), String(item.id), item.messagePrefix);
  await documentClient().send(
    new UpdateCommand({
      TableName: config().TABLE_NAME,
      Key: { pk: item.pk, sk: item.sk },
      UpdateExpression: 'SET gsi4pk = :p, gsi4sk = :s',
      ExpressionAttributeValues: { ':p': keys.gsi4pk, ':s': keys.gsi4sk },
    }),
  );
}

export const dynamoBroadcastStore: BroadcastStore = {
  async create(broadcast) {
    try {
      await documentClient().send(
        new PutCommand({
          TableName: config().TABLE_NAME,
          Item: {
            ...broadcastKey(broadcast.operatorId, broadcast.id),
            // Started now: entered in the index its messages are found by (customer-broadcast-messages.ts).
            ...(broadcast.messagePrefix ? startedBroadcastKeys(broadcast.operatorId, broadcast.id, broadcast.messagePrefix) : {}),
            entity: 'broadcast',
            ...broadcast,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  },

  async get(operatorId, id) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: broadcastKey(operatorId, id), ConsistentRead: true }));
    return reply.Item ? fromItem(reply.Item) : undefined;
  },

  list(operatorId, limit, cursor) {
    const partition = { attribute: 'pk', value: `OP#${operatorId}` };
    return queryPage(
      {
        TableName: config().TABLE_NAME,
        KeyConditionExpression: '#p = :p AND begins_with(#s, :prefix)',
        ExpressionAttributeNames: { '#p': 'pk', '#s': 'sk' },
        ExpressionAttributeValues: { ':p': partition.value, ':prefix': 'BCAST#' },
        // Ids are ULIDs: newest first.
        ScanIndexForward: false,
      },
      { limit, cursor, partition, keyAttributes: ['pk', 'sk'], map: fromItem },
    );
  },

  async update(operatorId, id, changes, condition, add = {}) {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const adds: string[] = [];
    Object.entries(changes).forEach(([field, value], i) => {
      if (field === 'id' || field === 'operatorId' || field === 'createdAt') throw new Error(`Cannot update broadcast field "${field}".`);
      names[`#f${i}`] = field;
      values[`:f${i}`] = value;
      sets.push(`#f${i} = :f${i}`);
    });
    if (add.planned) {
      adds.push('planned :planned');
      values[':planned'] = add.planned;
    }
    if (add.pages) {
      adds.push('pages :pages');
      values[':pages'] = add.pages;
    }
    if (add.pagesSettled) {
      adds.push('pagesSettled :pagesSettled');
      values[':pagesSettled'] = add.pagesSettled;
    }
    if (add.pagesDone) {
      adds.push('pagesDone :pagesDone');
      values[':pagesDone'] = add.pagesDone;
    }
    if (add.messagesWritten) {
      names['#written'] = MESSAGES_WRITTEN;
      adds.push('#written :written');
      values[':written'] = add.messagesWritten;
    }
    // Skipped recipients by reason: a map whose entries are added to (created at 0 on the first).
    Object.entries(add.skipped ?? {}).forEach(([reason, n], i) => {
      if (n === 0) return;
      names['#skipped'] = 'skipped';
      names[`#r${i}`] = reason;
      values[`:r${i}`] = n;
      values[':zero'] = 0;
      sets.push(`#skipped.#r${i} = if_not_exists(#skipped.#r${i}, :zero) + :r${i}`);
    });
    if (typeof changes.messagePrefix === 'string') {
      // Started now (a scheduled broadcast): entered in the index its messages are found by.
      Object.entries(startedBroadcastKeys(operatorId, id, changes.messagePrefix)).forEach(([field, value]) => {
        values[`:${field}`] = value;
        sets.push(`${field} = :${field}`);
      });
    }
    const conditions = ['attribute_exists(pk)'];
    if (condition.states) {
      names['#state'] = 'state';
      conditions.push(`#state IN (${condition.states.map((s, i) => `:s${i}`).join(', ')})`);
      condition.states.forEach((s, i) => (values[`:s${i}`] = s));
    }
    if (condition.planStep !== undefined) {
      names['#planStep'] = 'planStep';
      values[':step'] = condition.planStep;
      conditions.push('#planStep = :step');
    }
    if (sets.length === 0 && adds.length === 0) return this.get(operatorId, id);
    try {
      const reply = await documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: broadcastKey(operatorId, id),
          UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', adds.length ? `ADD ${adds.join(', ')}` : ''].join(' ').trim(),
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      await indexIfStartedBefore(reply.Attributes!);
      return fromItem(reply.Attributes!);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  },

  applyStreamCounts,

  counts: readCounts,

  async takeBudget(operatorId, broadcastId, amount, maxCost) {
    if (amount > maxCost) return false;
    try {
      await documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: broadcastKey(operatorId, broadcastId),
          UpdateExpression: 'SET budgetUsed = if_not_exists(budgetUsed, :zero) + :amount',
          ConditionExpression: 'attribute_not_exists(budgetUsed) OR budgetUsed <= :room',
          ExpressionAttributeValues: { ':zero': 0, ':amount': amount, ':room': maxCost - amount },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  },

  async claimPage(operatorId, broadcastId, page, until, now) {
    const TableName = config().TABLE_NAME;
    try {
      await documentClient().send(
        new PutCommand({
          TableName,
          Item: { ...pageKey(operatorId, broadcastId, page), entity: 'broadcastPage', state: 'expanding', claimedUntil: until, claimedAt: now },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const current = (await documentClient().send(new GetCommand({ TableName, Key: pageKey(operatorId, broadcastId, page), ConsistentRead: true }))).Item;
    if (!current) return 'busy';
    if (current.state === 'done') return 'done';
    if (String(current.claimedUntil) > now) return 'busy';
    // Its worker died (the claim outlasts a worker's timeout): take it over, once.
    try {
      await documentClient().send(
        new UpdateCommand({
          TableName,
          Key: pageKey(operatorId, broadcastId, page),
          UpdateExpression: 'SET claimedUntil = :until, claimedAt = :now',
          ConditionExpression: '#state = :expanding AND claimedUntil = :old',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':until': until, ':now': now, ':expanding': 'expanding', ':old': current.claimedUntil },
        }),
      );
      return 'taken-over';
    } catch (error) {
      if (isConditionFailure(error)) return 'busy';
      throw error;
    }
  },

  async finishPage(operatorId, broadcastId, page, at) {
    await documentClient().send(
      new UpdateCommand({
        TableName: config().TABLE_NAME,
        Key: pageKey(operatorId, broadcastId, page),
        UpdateExpression: 'SET #state = :done, finishedAt = :at REMOVE claimedUntil',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':done': 'done', ':at': at },
      }),
    );
  },
};
