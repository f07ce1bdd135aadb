/**
 * Broadcasts, their counters and their expand pages:
 *
 *   OP#<op>  BCAST#<id>                  the broadcast (state, plan step, estimate)
 *   OP#<op>  BCOUNT#<id>#<shard>         counters, kept as its messages move (sharded: one hot item
 *                                        would cap a broadcast at DynamoDB's per-item write rate)
 *   OP#<op>  BPAGE#<id>#<page>           an expand page's claim, then "done"
 *
 * Counters are summed on read (one BatchGet of the shards), never by reading the messages.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { Broadcast } from '../../domain/records.js';
import type { BroadcastCounts, BroadcastStore } from '../../ports.js';
import { batchGet } from './batch-get.js';
import { documentClient } from './client.js';
import { queryPage, stripKeys } from './query-page.js';

export const COUNTER_SHARDS = 8;
/** The "now" rate is counted in windows of this many seconds. */
export const RATE_WINDOW_SECONDS = 10;
/** Windows of the rate kept on a counter item; older ones are removed as new ones are counted. */
const RATE_WINDOWS_KEPT = 6;

const broadcastKey = (op: string, id: string) => ({ pk: `OP#${op}`, sk: `BCAST#${id}` });
const counterKey = (op: string, id: string, shard: number) => ({ pk: `OP#${op}`, sk: `BCOUNT#${id}#${shard}` });
const pageKey = (op: string, id: string, page: number) => ({ pk: `OP#${op}`, sk: `BPAGE#${id}#${String(page).padStart(6, '0')}` });

const shardOf = (shardKey: string) => createHash('sha1').update(shardKey).digest()[0]! % COUNTER_SHARDS;
const windowOf = (at: Date) => Math.floor(at.getTime() / 1000 / RATE_WINDOW_SECONDS);

const COUNTED = ['queued', 'sent', 'delivered', 'read', 'failed', 'cancelled', 'spent'] as const;

const fromItem = (item: Record<string, unknown>) => stripKeys<Broadcast>(item);

const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException;

export const dynamoBroadcastStore: BroadcastStore = {
  async create(broadcast) {
    try {
      await documentClient().send(
        new PutCommand({
          TableName: config().TABLE_NAME,
          Item: { ...broadcastKey(broadcast.operatorId, broadcast.id), entity: 'broadcast', ...broadcast },
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
    // Skipped recipients by reason: a map whose entries are added to (created at 0 on the first).
    Object.entries(add.skipped ?? {}).forEach(([reason, n], i) => {
      if (n === 0) return;
      names['#skipped'] = 'skipped';
      names[`#r${i}`] = reason;
      values[`:r${i}`] = n;
      values[':zero'] = 0;
      sets.push(`#skipped.#r${i} = if_not_exists(#skipped.#r${i}, :zero) + :r${i}`);
    });
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
      return fromItem(reply.Attributes!);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  },

  async count(operatorId, broadcastId, shardKey, deltas, at, leftCount = 1) {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const adds: string[] = [];
    let removes: string[] = [];
    for (const [field, n] of Object.entries(deltas)) {
      if (!n || !(COUNTED as readonly string[]).includes(field)) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = n;
      adds.push(`#${field} :${field}`);
    }
    if (at) {
      // A message left us at `at`: the recent rate counts it in its window; older windows are dropped as new ones start.
      const window = windowOf(new Date(at));
      names['#w'] = `w${window}`;
      values[':w'] = leftCount;
      adds.push('#w :w');
      removes = Array.from({ length: RATE_WINDOWS_KEPT }, (_, i) => `w${window - RATE_WINDOWS_KEPT - i}`);
    }
    if (adds.length === 0) return;
    await documentClient().send(
      new UpdateCommand({
        TableName: config().TABLE_NAME,
        Key: counterKey(operatorId, broadcastId, shardOf(shardKey)),
        UpdateExpression: `ADD ${adds.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  },

  async counts(operatorId, broadcastId, now) {
    const items = await batchGet(Array.from({ length: COUNTER_SHARDS }, (_, shard) => counterKey(operatorId, broadcastId, shard)));
    const total: BroadcastCounts = { queued: 0, sent: 0, delivered: 0, read: 0, failed: 0, cancelled: 0, spent: 0, recentSent: 0 };
    // The last complete window.
    const recent = `w${windowOf(now) - 1}`;
    for (const item of items) {
      for (const field of COUNTED) total[field] += typeof item[field] === 'number' ? (item[field] as number) : 0;
      if (typeof item[recent] === 'number') total.recentSent += item[recent] as number;
    }
    return total;
  },

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
