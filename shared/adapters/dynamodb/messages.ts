import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import { idRange } from '../../domain/ids.js';
import { allowedPredecessors, type GatewayTry, type Message, type MessageStatus, type StatusChange } from '../../domain/records.js';
import type { MessageFilter, MessageStore, PendingMessage } from '../../ports.js';
import { batchGet } from './batch-get.js';
import { documentClient } from './client.js';
import { queryPage, stripKeys } from './query-page.js';
import { keysThenItems } from './index-page.js';
import { customerHistory } from './customer-history.js';
import { isIndexedMessageStatus, key, PENDING_SHARDS, pendingShard } from './table.js';
import { batchPut } from './batch-write.js';

/** How long a POST with an Idempotency-Key is remembered. */
const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/** Statuses that stay in the pending index (gsi3) until they move on. */
const isPending = (status: MessageStatus) => status === 'queued' || status === 'sent';

/** Status changes kept on a message at most (late receipts stop being noted past it). */
const MAX_HISTORY = 50;

/** Statuses after which a message's sealed content is no longer needed (a fallback copies it before). */
const isFinal = (status: MessageStatus) => status === 'delivered' || status === 'read' || status === 'failed' || status === 'cancelled';

function toItem(message: Message) {
  return {
    ...key.message(message.operatorId, message.id),
    // Keys-only indexes whose keys are set once (gsi5 on entering failed/cancelled, which are final):
    // a later update writes no copy of the item into them. A broadcast's message has no customer
    // entry (a third of its create): its id derives from (broadcast, customer), so the customer's
    // history and erasure read it by key (customer-broadcast-messages.ts).
    ...(message.customerId && message.broadcastId === undefined
      ? { gsi4pk: key.customerMessagesIndex(message.operatorId, message.customerId), gsi4sk: `MSG#${message.id}` }
      : {}),
    ...(isIndexedMessageStatus(message.status)
      ? { gsi5pk: key.messageStatusIndex(message.operatorId, message.status), gsi5sk: `MSG#${message.id}` }
      : {}),
    // A message held with its broadcast page is watched by the page's settle step, not the pending index.
    ...(isPending(message.status) && message.holdId === undefined
      ? {
          gsi3pk: key.pendingIndex(message.status, pendingShard(message.id)),
          gsi3sk: key.pendingSort(message.updatedAt, message.operatorId, message.id),
        }
      : {}),
    entity: 'message',
    ...message,
  };
}

/**
 * A message as stored. The usual accepted try (the provider took it at the first gateway it was
 * sent to, or the last one failed over to) is stored as a flag, `tryAccepted`, not as a copy of what
 * the message already says (its gateway, provider, provider id and sent time): about 130 bytes less,
 * which keeps a delivered message under the 1 KB of one write unit.
 */
function fromItem(item: Record<string, unknown>): Message {
  const { tryAccepted, ...rest } = item;
  const message = stripKeys<Message>(rest);
  if (tryAccepted === true) {
    const sentAt = message.history.find((change) => change.status === 'sent')?.at ?? message.updatedAt;
    message.tries = [
      ...(message.tries ?? []),
      { gatewayId: message.gatewayId, provider: message.provider, outcome: 'accepted', at: sentAt, ...(message.providerMessageId ? { detail: message.providerMessageId } : {}) },
    ];
  }
  return message;
}

/** Whether an accepted try says only what the message itself will say once `sent` is recorded with it. */
const isPlainAcceptedTry = (tried: GatewayTry, change: StatusChange, extra: { providerMessageId?: string; gatewayId?: string }) =>
  tried.outcome === 'accepted' && change.status === 'sent' && tried.at === change.at && tried.gatewayId === extra.gatewayId && tried.detail === extra.providerMessageId;

/** The history's filters applied to an item read by key: the same as the FilterExpression of a key-range read. */
function matches(item: Record<string, unknown>, filter: Pick<MessageFilter, 'status' | 'channel' | 'direction'>): boolean {
  if (filter.status !== undefined && item.status !== filter.status) return false;
  if (filter.channel !== undefined && item.channel !== filter.channel) return false;
  // Messages stored before directions have none, and are ours.
  if (filter.direction !== undefined && (item.direction === 'in') !== (filter.direction === 'in')) return false;
  return true;
}

/** An UpdateItem whose condition may not hold: the new item, or undefined when the message has moved on. */
async function updateIfStill(input: Omit<UpdateCommandInput, 'TableName'>): Promise<Record<string, unknown> | undefined> {
  try {
    const reply = await documentClient().send(new UpdateCommand({ TableName: config().TABLE_NAME, ...input }));
    return reply.Attributes ?? {};
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed'));

/**
 * A status change, forward only (from the statuses allowed before it). `expect`: a receipt that
 * named the message itself, applied only to the message that went out with that provider id.
 */
async function applyTransition(
  operatorId: string,
  id: string,
  change: StatusChange,
  extra: Parameters<MessageStore['transition']>[3] = {},
  expect?: { gatewayId: string; providerMessageId: string },
): Promise<'changed' | 'unchanged' | 'unknown'> {
  const TableName = config().TABLE_NAME;
  const predecessors = allowedPredecessors(change.status);
  const values: Record<string, unknown> = {
    ':status': change.status,
    ':entry': [change],
    ':at': change.at,
  };
  predecessors.forEach((status, i) => (values[`:from${i}`] = status));
  const sets = ['#status = :status', 'history = list_append(history, :entry)', 'updatedAt = :at'];
  // Into the status index only for failed/cancelled. Nothing to remove otherwise: no status moves
  // out of them (allowedPredecessors), so a message that moves has no gsi5 entry.
  if (isIndexedMessageStatus(change.status)) {
    sets.push('gsi5pk = :gsi5pk', 'gsi5sk = :gsi5sk');
    values[':gsi5pk'] = key.messageStatusIndex(operatorId, change.status);
    values[':gsi5sk'] = `MSG#${id}`;
  }
  // Every status it can move to is past sending: its claim, or its send group, is done with.
  const removes = ['claimedUntil', 'claimedAt', 'sendGroup'];
  const awaitingFallback = change.status === 'failed' && extra.awaitingFallback === true;
  if ((isPending(change.status) && extra.pending !== false) || awaitingFallback) {
    sets.push('gsi3pk = :gsi3pk', 'gsi3sk = :gsi3sk');
    values[':gsi3pk'] = key.pendingIndex(awaitingFallback ? 'fallback' : change.status, pendingShard(id));
    // A sent message sorts by when its receipt is due, so the reconciler reads only the overdue ones.
    values[':gsi3sk'] = key.pendingSort(extra.receiptDueAt ?? change.at, operatorId, id);
  } else {
    removes.push('gsi3pk', 'gsi3sk');
  }
  if (isFinal(change.status) && !awaitingFallback) removes.push('sealedContent');
  if (extra.providerMessageId) {
    sets.push('providerMessageId = :pid');
    values[':pid'] = extra.providerMessageId;
  }
  if (extra.tried && isPlainAcceptedTry(extra.tried, change, extra)) {
    sets.push('tryAccepted = :true');
    values[':true'] = true;
  } else if (extra.tried) {
    sets.push('tries = list_append(if_not_exists(tries, :none), :tried)');
    values[':tried'] = [extra.tried];
    values[':none'] = [];
  }
  const update: UpdateCommandInput = {
    TableName,
    Key: key.message(operatorId, id),
    UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
    ConditionExpression: `attribute_exists(pk) AND #status IN (${predecessors.map((_, i) => `:from${i}`).join(', ')})`,
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: values,
  };
  if (extra.unclaimedOnly) update.ConditionExpression += ' AND attribute_not_exists(claimedUntil)';
  if (expect) {
    update.ConditionExpression += ' AND gatewayId = :gw AND providerMessageId = :expectedPid';
    values[':gw'] = expect.gatewayId;
    values[':expectedPid'] = expect.providerMessageId;
  }
  try {
    if (extra.providerMessageId && extra.gatewayId && extra.pointer !== false) {
      // The pointer first: a receipt that finds it before the status is written moves the message
      // on from queued (allowed), and a pointer to a message that did not move is never followed wrongly.
      await documentClient().send(
        new PutCommand({
          TableName,
          Item: { ...key.providerMessage(extra.gatewayId, extra.providerMessageId), entity: 'providerMessage', operatorId, messageId: id },
        }),
      );
    }
    // A broadcast's counters follow from the table's stream (functions/streams/broadcast-counters.ts), not from here.
    await documentClient().send(new UpdateCommand({ ...update, ...(expect ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}) }));
    return 'changed';
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    if (!expect) return 'unchanged';
    // Ours, sent through that gateway with that provider id: an out-of-order or repeated receipt. Otherwise not (yet) for this message.
    const current = error instanceof ConditionalCheckFailedException && error.Item ? unmarshall(error.Item) : undefined;
    return current?.gatewayId === expect.gatewayId && current?.providerMessageId === expect.providerMessageId ? 'unchanged' : 'unknown';
  }
}

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

  async createLinked(original, message, link, originalStatuses) {
    const TableName = config().TABLE_NAME;
    const statusValues = Object.fromEntries(originalStatuses.map((status, i) => [`:s${i}`, status]));
    try {
      await documentClient().send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName, Item: toItem(message), ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              // The original remembers its one resend (or fallback): a second try finds it, whatever key it carries.
              // A fallback also takes the original out of the pending index and drops its sealed content.
              Update: {
                TableName,
                Key: key.message(original.operatorId, original.id),
                UpdateExpression: link === 'fallbackMessageId' ? 'SET #link = :id REMOVE gsi3pk, gsi3sk, sealedContent' : 'SET #link = :id',
                ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(#link) AND #status IN (${Object.keys(statusValues).join(', ')})`,
                ExpressionAttributeNames: { '#status': 'status', '#link': link },
                ExpressionAttributeValues: { ':id': message.id, ...statusValues },
              },
            },
          ],
        }),
      );
      return { created: true, message };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const current = await this.get(original.operatorId, original.id);
      const existing = current?.[link];
      if (!existing) throw error;
      return { created: false, existingMessageId: existing, sameRequest: true };
    }
  },

  async createMany(messages) {
    await batchPut(messages.map(toItem));
  },

  async existing(operatorId, ids) {
    const items = await batchGet(ids.map((id) => key.message(operatorId, id)));
    return new Set(items.map((item) => String(item.sk).slice('MSG#'.length)));
  },

  async clearPending(operatorId, id) {
    await updateIfStill({
      Key: key.message(operatorId, id),
      UpdateExpression: 'REMOVE gsi3pk, gsi3sk, sealedContent',
      ConditionExpression: '#status = :failed',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':failed': 'failed' },
    });
  },

  async noteRepeats(operatorId, id, repeats) {
    // Only upwards: concurrent repeats may arrive out of order.
    await updateIfStill({
      Key: key.message(operatorId, id),
      UpdateExpression: 'SET alert.repeats = :n',
      ConditionExpression: 'attribute_exists(alert) AND (attribute_not_exists(alert.repeats) OR alert.repeats < :n)',
      ExpressionAttributeValues: { ':n': repeats },
    });
  },

  async noteLateReceipt(operatorId, id, change) {
    // Bounded, so a provider repeating a receipt forever cannot grow the item towards its size limit.
    await updateIfStill({
      Key: key.message(operatorId, id),
      UpdateExpression: 'SET history = list_append(history, :entry)',
      ConditionExpression: 'attribute_exists(pk) AND size(history) < :max',
      ExpressionAttributeValues: { ':entry': [{ ...change, late: true }], ':max': MAX_HISTORY },
    });
  },

  async createInbound(message, gatewayId, providerMessageId) {
    const TableName = config().TABLE_NAME;
    try {
      await documentClient().send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName, Item: toItem(message), ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              // The provider's id, once per gateway: a retried webhook finds it and records nothing.
              Put: {
                TableName,
                Item: { ...key.providerMessage(gatewayId, providerMessageId), entity: 'providerMessage', operatorId: message.operatorId, messageId: message.id },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  },

  async get(operatorId, id) {
    const reply = await documentClient().send(
      new GetCommand({ TableName: config().TABLE_NAME, Key: key.message(operatorId, id), ConsistentRead: true }),
    );
    return reply.Item ? fromItem(reply.Item) : undefined;
  },

  async getMany(keys, options = {}) {
    const items = await batchGet(keys.map((k) => key.message(k.operatorId, k.messageId)), options);
    return items.map(fromItem);
  },

  async list(operatorId, filter, limit, cursor) {
    const { min, max } = idRange(filter.from ? new Date(filter.from) : undefined, filter.to ? new Date(filter.to) : undefined);
    if (!filter.broadcast) {
      // A customer's messages are few: their keys-only index, the items read by key, filtered here,
      // merged with their broadcast messages (read by their derived ids).
      if (filter.customerId !== undefined) {
        return customerHistory(operatorId, { ...filter, customerId: filter.customerId }, limit, cursor, { accept: (item) => matches(item, filter), map: fromItem });
      }
      // A failed or cancelled status is its own (sparse) index; any other status is most messages,
      // read below as a filtered key range.
      const index =
        filter.status !== undefined && isIndexedMessageStatus(filter.status)
          ? { name: 'gsi5', value: key.messageStatusIndex(operatorId, filter.status) }
          : undefined;
      if (index) {
        const partition = { attribute: `${index.name}pk`, value: index.value };
        const sortAttribute = `${index.name}sk`;
        // The status is the index's partition: only the channel and direction are left to filter.
        const inCode = { status: undefined, channel: filter.channel, direction: filter.direction };
        const filtered = Object.values(inCode).some((v) => v !== undefined);
        return keysThenItems(
          {
            TableName: config().TABLE_NAME,
            IndexName: index.name,
            KeyConditionExpression: '#p = :p AND #s BETWEEN :min AND :max',
            ExpressionAttributeNames: { '#p': partition.attribute, '#s': sortAttribute },
            ExpressionAttributeValues: { ':p': partition.value, ':min': `MSG#${min}`, ':max': `MSG#${max}` },
            ScanIndexForward: false,
          },
          {
            limit,
            cursor,
            partition,
            keyAttributes: ['pk', 'sk', partition.attribute, sortAttribute],
            accept: filtered ? (item) => matches(item, inCode) : undefined,
            filter: inCode,
            map: fromItem,
          },
        );
      }
    }
    // The operator's messages as a key range (a broadcast's share its id prefix), the rest filtered.
    const partition = { attribute: 'pk', value: `OP#${operatorId}` };
    const clauses: string[] = [];
    const names: Record<string, string> = { '#p': partition.attribute, '#s': 'sk' };
    const values: Record<string, unknown> = filter.broadcast
      ? { ':p': partition.value, ':min': `MSG#${filter.broadcast.messagePrefix}`, ':max': `MSG#${filter.broadcast.messagePrefix}~` }
      : { ':p': partition.value, ':min': `MSG#${min}`, ':max': `MSG#${max}` };
    if (filter.broadcast) {
      clauses.push('#broadcastId = :broadcastId');
      names['#broadcastId'] = 'broadcastId';
      values[':broadcastId'] = filter.broadcast.id;
      if (filter.customerId !== undefined) {
        clauses.push('#customerId = :customerId');
        names['#customerId'] = 'customerId';
        values[':customerId'] = filter.customerId;
      }
    }
    if (filter.status) {
      clauses.push('#status = :status');
      names['#status'] = 'status';
      values[':status'] = filter.status;
    }
    if (filter.direction) {
      clauses.push(filter.direction === 'in' ? '#direction = :in' : '(attribute_not_exists(#direction) OR #direction <> :in)');
      names['#direction'] = 'direction';
      values[':in'] = 'in';
    }
    if (filter.channel) {
      clauses.push('#channel = :channel');
      names['#channel'] = 'channel';
      values[':channel'] = filter.channel;
    }
    return queryPage(
      {
        TableName: config().TABLE_NAME,
        KeyConditionExpression: '#p = :p AND #s BETWEEN :min AND :max',
        FilterExpression: clauses.length ? clauses.join(' AND ') : undefined,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
      },
      { limit, cursor, partition, keyAttributes: ['pk', 'sk'], map: fromItem },
    );
  },

  async claim(operatorId, id, until, now) {
    try {
      const reply = await documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: key.message(operatorId, id),
          UpdateExpression: 'SET claimedUntil = :until, claimedAt = :now, attempts = attempts + :one, updatedAt = :now',
          // A message of a send group is sent under the group's claim, never under its own.
          ConditionExpression: 'attribute_exists(pk) AND #status = :queued AND attribute_not_exists(claimedUntil) AND attribute_not_exists(sendGroup)',
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
      if (current.sendGroup !== undefined) return { ok: false, reason: 'grouped', message: current };
      return { ok: false, reason: (current.claimedUntil ?? '') > now ? 'claimed' : 'claim-expired', message: current };
    }
  },

  async takeOverClaim(operatorId, id, expiredUntil, until, now) {
    const taken = await updateIfStill({
      Key: key.message(operatorId, id),
      // claimedAt is kept: it is when the lost provider call may have started.
      UpdateExpression: 'SET claimedUntil = :until, attempts = attempts + :one, updatedAt = :now',
      ConditionExpression: '#status = :queued AND claimedUntil = :expired',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':until': until, ':now': now, ':one': 1, ':queued': 'queued', ':expired': expiredUntil },
      ReturnValues: 'ALL_NEW',
    });
    return taken && fromItem(taken);
  },

  async failOver(operatorId, id, claimedUntil, tried, next) {
    const moved = await updateIfStill({
      Key: key.message(operatorId, id),
      UpdateExpression: 'SET gatewayId = :gw, provider = :provider, updatedAt = :at, tries = list_append(if_not_exists(tries, :none), :tried)',
      ConditionExpression: '#status = :queued AND claimedUntil = :mine',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':gw': next.gatewayId,
        ':provider': next.provider,
        ':at': tried.at,
        ':tried': [tried],
        ':none': [],
        ':queued': 'queued',
        ':mine': claimedUntil,
      },
    });
    return moved !== undefined;
  },

  async release(operatorId, id, error, now, tried, options = {}) {
    const sets = ['lastError = :error', 'updatedAt = :now'];
    if (tried) sets.push('tries = list_append(if_not_exists(tries, :none), :tried)');
    // A claim counted the attempt when it was taken; a group's message had none, so a spent one counts now.
    const attemptDelta = options.fromGroup ? (options.spent === false ? 0 : 1) : options.spent === false ? -1 : 0;
    if (attemptDelta !== 0) sets.push('attempts = attempts + :delta');
    // Not queued any more (a receipt overtook it, or it was failed): nothing to give back.
    await updateIfStill({
      Key: key.message(operatorId, id),
      UpdateExpression: `REMOVE claimedUntil, claimedAt${options.fromGroup ? ', sendGroup' : ''} SET ${sets.join(', ')}`,
      ConditionExpression: '#status = :queued',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':error': error,
        ':now': now,
        ':queued': 'queued',
        ...(tried ? { ':tried': [tried], ':none': [] } : {}),
        ...(attemptDelta !== 0 ? { ':delta': attemptDelta } : {}),
      },
    });
  },

  async takeFromLostGroup(operatorId, id, group, claimedAt, expiredUntil) {
    const moved = await updateIfStill({
      Key: key.message(operatorId, id),
      UpdateExpression: 'SET claimedUntil = :until, claimedAt = :at, attempts = attempts + :one REMOVE sendGroup',
      ConditionExpression: '#status = :queued AND sendGroup = :group AND attribute_not_exists(claimedUntil)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':until': expiredUntil, ':at': claimedAt, ':one': 1, ':queued': 'queued', ':group': group },
    });
    return moved !== undefined;
  },

  async transition(operatorId, id, change, extra = {}) {
    return (await applyTransition(operatorId, id, change, extra)) === 'changed';
  },

  async receiptByMessageId(operatorId, id, gatewayId, providerMessageId, change) {
    return applyTransition(operatorId, id, change, {}, { gatewayId, providerMessageId });
  },

  async postponeReceiptCheck(operatorId, id, dueAt) {
    // It moved on meanwhile (a receipt came): nothing to check any more.
    await updateIfStill({
      Key: key.message(operatorId, id),
      UpdateExpression: 'SET gsi3sk = :sk',
      ConditionExpression: '#status = :sent',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':sk': key.pendingSort(dueAt, operatorId, id), ':sent': 'sent' },
    });
  },

  async stopReceiptChecks(operatorId, id) {
    await updateIfStill({
      Key: key.message(operatorId, id),
      UpdateExpression: 'REMOVE gsi3pk, gsi3sk',
      ConditionExpression: '#status = :sent',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':sent': 'sent' },
    });
  },

  async findByProviderId(gatewayId, providerMessageId) {
    const reply = await documentClient().send(
      new GetCommand({ TableName: config().TABLE_NAME, Key: key.providerMessage(gatewayId, providerMessageId), ConsistentRead: true }),
    );
    const item = reply.Item;
    if (typeof item?.operatorId !== 'string' || typeof item.messageId !== 'string') return undefined;
    return { operatorId: item.operatorId, messageId: item.messageId };
  },

  async *pending(status, before) {
    for (let shard = 0; shard < PENDING_SHARDS; shard++) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const reply = await documentClient().send(
          new QueryCommand({
            TableName: config().TABLE_NAME,
            IndexName: 'gsi3',
            KeyConditionExpression: 'gsi3pk = :p AND gsi3sk < :before',
            ExpressionAttributeValues: { ':p': key.pendingIndex(status, shard), ':before': before },
            ExclusiveStartKey: startKey,
          }),
        );
        const found: PendingMessage[] = [];
        for (const item of reply.Items ?? []) {
          const pk = String(item.pk);
          const sk = String(item.sk);
          if (pk.startsWith('OP#') && sk.startsWith('MSG#')) found.push({ operatorId: pk.slice(3), messageId: sk.slice(4) });
        }
        if (found.length > 0) yield found;
        startKey = reply.LastEvaluatedKey;
      } while (startKey);
    }
  },
};
