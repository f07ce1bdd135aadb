/**
 * Balances, holds and the append-only ledger, on one table:
 *
 *   OP#<op>  #BALANCE            balance (= sum of the ledger), reserved, creditLimit, available, version
 *   OP#<op>  LEDGER#<ulid>       one entry; never updated or deleted
 *   OP#<op>  HOLD#<messageId>    what a message costs, from acceptance to settle or release;
 *                                 in gsi3 (PENDING#hold#<shard>) while open, for the reconciler
 *   OP#<op>  HOLD#<groupId>      what a broadcast page's messages cost, held at once and settled at
 *                                 once (one ledger entry per channel) when every message has left
 *   OP#<op>  CREDIT#<reference>  a credit's reference, written with its entry (a credit happens once)
 *   OP#<op> / PLATFORM  #PRICES   price tables
 *
 * Every balance change is one transaction: the balance (conditional on the version read, so its
 * `balanceAfter` is exact), the ledger entry, and the hold or credit item that makes it happen once.
 * Holds only raise `reserved`, with a condition that the available balance covers them: never below
 * zero (or the credit limit), whatever runs at the same moment. Conflicts on the hot balance item
 * are retried with jittered backoff.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import { InsufficientBalance } from '../../domain/errors.js';
import { idRange, newId } from '../../domain/ids.js';
import type { BalanceState, BillingStore, Hold, LedgerEntry, Settled } from '../../ports.js';
import { documentClient } from './client.js';
import { queryPage, stripKeys } from './query-page.js';
import { key, PENDING_SHARDS, pendingShard } from './table.js';

const balanceKey = (op: string) => ({ pk: `OP#${op}`, sk: '#BALANCE' });
const holdKey = (op: string, messageId: string) => ({ pk: `OP#${op}`, sk: `HOLD#${messageId}` });
const ledgerKey = (op: string, id: string) => ({ pk: `OP#${op}`, sk: `LEDGER#${id}` });
const creditKey = (op: string, reference: string) => ({ pk: `OP#${op}`, sk: `CREDIT#${reference}` });
const pricesKey = (owner: string) => ({ pk: owner === 'PLATFORM' ? 'PLATFORM' : `OP#${owner}`, sk: '#PRICES' });

/** Tries of a balance transaction that lost the race for the version. */
const MAX_TRIES = 25;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Full jitter: spreads the retries of many workers that collided on the same balance. */
const backoff = (attempt: number) => sleep(Math.random() * Math.min(200, 5 * 2 ** attempt));

/** Which items of a cancelled transaction failed their condition. */
function failedConditions(error: unknown): number[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return (error.CancellationReasons ?? []).flatMap((reason, i) => (reason.Code === 'ConditionalCheckFailed' ? [i] : []));
}

const isConflict = (error: unknown) => error instanceof TransactionCanceledException && (error.CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict');

async function readBalance(operatorId: string): Promise<BalanceState | undefined> {
  const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: balanceKey(operatorId), ConsistentRead: true }));
  if (!reply.Item) return undefined;
  const item = reply.Item;
  return {
    currency: String(item.currency),
    balance: Number(item.balance ?? 0),
    reserved: Number(item.reserved ?? 0),
    creditLimit: Number(item.creditLimit ?? 0),
    version: Number(item.version ?? 0),
    ...(item.lowBalanceAlerted === true ? { lowBalanceAlerted: true } : {}),
    ...(typeof item.lowBalanceThreshold === 'number' ? { lowBalanceThreshold: item.lowBalanceThreshold } : {}),
  };
}

const toEntry = (item: Record<string, unknown>) => stripKeys<LedgerEntry>(item);

/**
 * What is available after a debit, from the read it was made against (holds taken since are not in
 * it: a warning may come one debit late), with what the low-balance warning needs.
 */
function settledFrom(state: BalanceState, balanceAfter: number, releasedFromReserved: number): Settled {
  return {
    outcome: 'settled',
    available: balanceAfter + state.creditLimit - (state.reserved - releasedFromReserved),
    currency: state.currency,
    ...(state.lowBalanceThreshold !== undefined ? { lowBalanceThreshold: state.lowBalanceThreshold } : {}),
    lowBalanceAlerted: state.lowBalanceAlerted === true,
  };
}

/**
 * A debit transaction (hold first, balance second) that did not go through: 'already' when its hold
 * was settled meanwhile; 'retry' (after a backoff) when it lost the race for the balance's version;
 * any other error is thrown.
 */
async function afterFailedDebit(error: unknown, attempt: number): Promise<'already' | 'retry'> {
  const failed = failedConditions(error);
  if (failed?.includes(0)) return 'already';
  if ((failed?.includes(1) || isConflict(error)) && attempt < MAX_TRIES) {
    await backoff(attempt);
    return 'retry';
  }
  throw error;
}


export const dynamoBillingStore: BillingStore = {
  async prices(ownerId) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: pricesKey(ownerId) }));
    return reply.Item ? stripKeys(reply.Item) : undefined;
  },

  async putPrices(ownerId, table) {
    await documentClient().send(new PutCommand({ TableName: config().TABLE_NAME, Item: { ...pricesKey(ownerId), entity: 'prices', ...table } }));
  },

  async balance(operatorId, currency) {
    const existing = await readBalance(operatorId);
    if (existing) return existing;
    try {
      await documentClient().send(
        new PutCommand({
          TableName: config().TABLE_NAME,
          Item: { ...balanceKey(operatorId), entity: 'balance', currency, balance: 0, reserved: 0, creditLimit: 0, available: 0, version: 0 },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    return (await readBalance(operatorId))!;
  },

  async hold(operatorId, hold, at) {
    const TableName = config().TABLE_NAME;
    const holdItem = {
      ...holdKey(operatorId, hold.messageId),
      entity: 'hold',
      ...hold,
      status: 'open',
      at,
      gsi3pk: key.pendingIndex('hold', pendingShard(hold.messageId)),
      gsi3sk: key.pendingSort(at, operatorId, hold.messageId),
    };
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
      { Put: { TableName, Item: holdItem, ConditionExpression: 'attribute_not_exists(pk)' } },
    ];
    if (hold.prepaid) {
      // Only while what is left covers it. `available` (= balance + credit limit - reserved) is kept with
      // every change, because a condition cannot add: available >= amount.
      items.push({
        Update: {
          TableName,
          Key: balanceKey(operatorId),
          UpdateExpression: 'SET reserved = reserved + :amount, available = available - :amount',
          ConditionExpression: 'available >= :amount',
          ExpressionAttributeValues: { ':amount': hold.amount },
        },
      });
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await documentClient().send(new TransactWriteCommand({ TransactItems: items }));
        return { outcome: 'held' };
      } catch (error) {
        const failed = failedConditions(error);
        if (failed?.includes(0)) return { outcome: 'exists' };
        if (failed?.includes(1)) {
          const now = await readBalance(operatorId);
          // No balance yet (an operator's first hold): made now, then the hold goes again. Read only then, not before every hold.
          if (!now && attempt < MAX_TRIES) {
            await this.balance(operatorId, hold.currency);
            continue;
          }
          const available = now ? now.balance + now.creditLimit - now.reserved : 0;
          return { outcome: 'short', shortfall: Math.max(1, hold.amount - available) };
        }
        if (isConflict(error) && attempt < MAX_TRIES) {
          await backoff(attempt);
          continue;
        }
        throw error;
      }
    }
  },

  async settle(operatorId, messageId, at) {
    const TableName = config().TABLE_NAME;
    for (let attempt = 0; ; attempt++) {
      const hold = (await documentClient().send(new GetCommand({ TableName, Key: holdKey(operatorId, messageId), ConsistentRead: true }))).Item;
      if (!hold) return 'none';
      if (hold.status !== 'open') return 'already';
      const amount = Number(hold.amount);
      const state = await this.balance(operatorId, String(hold.currency));
      const balanceAfter = state.balance - amount;
      const entryId = newId(new Date(at));
      const entry: LedgerEntry = {
        id: entryId,
        type: 'debit',
        amount: -amount,
        currency: String(hold.currency),
        balanceAfter,
        reason: `${String(hold.channel).toUpperCase()} message${typeof hold.segments === 'number' ? `, ${hold.segments} segment${hold.segments === 1 ? '' : 's'}` : ''}`,
        at,
        messageId,
        seq: state.version + 1,
        channel: String(hold.channel),
        ...(typeof hold.segments === 'number' ? { segments: hold.segments } : {}),
        ...(typeof hold.resellerId === 'string' ? { resellerId: hold.resellerId } : {}),
      };
      try {
        await documentClient().send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName,
                  Key: holdKey(operatorId, messageId),
                  UpdateExpression: 'SET #status = :settled, settledAt = :at REMOVE gsi3pk, gsi3sk',
                  ConditionExpression: '#status = :open',
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: { ':settled': 'settled', ':open': 'open', ':at': at },
                },
              },
              {
                Update: {
                  TableName,
                  Key: balanceKey(operatorId),
                  // Prepaid: the held amount leaves `reserved` as it leaves the balance (available stays); postpaid: it leaves available.
                  UpdateExpression: hold.prepaid
                    ? 'SET balance = :after, version = :next, reserved = reserved - :amount'
                    : 'SET balance = :after, version = :next, available = available - :amount',
                  ConditionExpression: 'version = :version',
                  ExpressionAttributeValues: { ':after': balanceAfter, ':next': state.version + 1, ':version': state.version, ':amount': amount },
                },
              },
              { Put: { TableName, Item: { ...ledgerKey(operatorId, entryId), entity: 'ledger', ...entry }, ConditionExpression: 'attribute_not_exists(pk)' } },
            ],
          }),
        );
        return settledFrom(state, balanceAfter, hold.prepaid ? amount : 0);
      } catch (error) {
        if ((await afterFailedDebit(error, attempt)) === 'already') return 'already';
      }
    }
  },

  async getHold(operatorId, holdId) {
    const item = (await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: holdKey(operatorId, holdId), ConsistentRead: true }))).Item;
    if (!item) return undefined;
    const { pk: _pk, sk: _sk, gsi3pk: _g1, gsi3sk: _g2, entity: _e, at: _at, settledAt: _s, releasedAt: _r, ...hold } = item;
    return hold as Hold & { status: 'open' | 'settled' | 'released' };
  },

  async settleGroup(operatorId, holdId, charges, reason, at) {
    const TableName = config().TABLE_NAME;
    const charged = charges.filter((c) => c.amount > 0 || c.messages > 0);
    const total = charged.reduce((sum, c) => sum + c.amount, 0);
    for (let attempt = 0; ; attempt++) {
      const hold = await this.getHold(operatorId, holdId);
      if (!hold) return 'none';
      if (hold.status !== 'open') return 'already';
      const state = await this.balance(operatorId, hold.currency);
      // One entry per channel charged, each its own version of the balance (so the ledger stays in order).
      let running = state.balance;
      const entries: LedgerEntry[] = charged.map((charge, i) => {
        running -= charge.amount;
        return {
          id: newId(new Date(at)),
          type: 'debit',
          amount: -charge.amount,
          currency: hold.currency,
          balanceAfter: running,
          reason: `${reason}: ${charge.messages} ${charge.channel.toUpperCase()} message${charge.messages === 1 ? '' : 's'}${charge.channel === 'sms' ? `, ${charge.segments} segment${charge.segments === 1 ? '' : 's'}` : ''}`,
          at,
          seq: state.version + i + 1,
          channel: charge.channel,
          messages: charge.messages,
          ...(charge.channel === 'sms' ? { segments: charge.segments } : {}),
          ...(hold.broadcastId ? { broadcastId: hold.broadcastId } : {}),
          ...(hold.resellerId ? { resellerId: hold.resellerId } : {}),
        };
      });
      const versions = entries.length;
      // Prepaid: the whole hold leaves `reserved`, what was charged leaves the balance (the rest is available again); postpaid: the charge leaves available.
      const balanceUpdate = hold.prepaid
        ? 'SET balance = :after, version = :next, reserved = reserved - :held, available = available + :back'
        : 'SET balance = :after, version = :next, available = available - :total';
      const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
        {
          Update: {
            TableName,
            Key: holdKey(operatorId, holdId),
            UpdateExpression: 'SET #status = :settled, settledAt = :at, charged = :total REMOVE gsi3pk, gsi3sk',
            ConditionExpression: '#status = :open',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':settled': 'settled', ':open': 'open', ':at': at, ':total': total },
          },
        },
        {
          Update: {
            TableName,
            Key: balanceKey(operatorId),
            UpdateExpression: balanceUpdate,
            ConditionExpression: 'version = :version',
            ExpressionAttributeValues: {
              ':after': running,
              ':next': state.version + versions,
              ':version': state.version,
              // An update adds one operand at a time: what goes back to available is computed here.
              ...(hold.prepaid ? { ':held': hold.amount, ':back': hold.amount - total } : { ':total': total }),
            },
          },
        },
        ...entries.map((entry) => ({ Put: { TableName, Item: { ...ledgerKey(operatorId, entry.id), entity: 'ledger', ...entry }, ConditionExpression: 'attribute_not_exists(pk)' } })),
      ];
      try {
        await documentClient().send(new TransactWriteCommand({ TransactItems: items }));
        return settledFrom(state, running, hold.prepaid ? hold.amount : 0);
      } catch (error) {
        if ((await afterFailedDebit(error, attempt)) === 'already') return 'already';
      }
    }
  },

  async release(operatorId, messageId, at) {
    const TableName = config().TABLE_NAME;
    const hold = (await documentClient().send(new GetCommand({ TableName, Key: holdKey(operatorId, messageId), ConsistentRead: true }))).Item;
    if (!hold) return 'none';
    if (hold.status !== 'open') return 'already';
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
      {
        Update: {
          TableName,
          Key: holdKey(operatorId, messageId),
          UpdateExpression: 'SET #status = :released, releasedAt = :at REMOVE gsi3pk, gsi3sk',
          ConditionExpression: '#status = :open',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':released': 'released', ':open': 'open', ':at': at },
        },
      },
    ];
    if (hold.prepaid) {
      items.push({
        Update: { TableName, Key: balanceKey(operatorId), UpdateExpression: 'SET reserved = reserved - :amount, available = available + :amount', ExpressionAttributeValues: { ':amount': Number(hold.amount) } },
      });
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await documentClient().send(new TransactWriteCommand({ TransactItems: items }));
        return 'released';
      } catch (error) {
        if (failedConditions(error)?.includes(0)) return 'already';
        if (isConflict(error) && attempt < MAX_TRIES) {
          await backoff(attempt);
          continue;
        }
        throw error;
      }
    }
  },

  async credit(operatorId, given, at) {
    const TableName = config().TABLE_NAME;
    const { reference, ...fields } = given;
    for (let attempt = 0; ; attempt++) {
      const seen = (await documentClient().send(new GetCommand({ TableName, Key: creditKey(operatorId, reference), ConsistentRead: true }))).Item;
      if (seen) {
        const entry = (await documentClient().send(new GetCommand({ TableName, Key: ledgerKey(operatorId, String(seen.entryId)), ConsistentRead: true }))).Item;
        return { entry: toEntry(entry!), created: false };
      }
      const state = await this.balance(operatorId, fields.currency);
      const entryId = newId(new Date(at));
      const entry: LedgerEntry = { ...fields, id: entryId, balanceAfter: state.balance + fields.amount, at, seq: state.version + 1 };
      try {
        await documentClient().send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName, Item: { ...creditKey(operatorId, reference), entity: 'credit', entryId }, ConditionExpression: 'attribute_not_exists(pk)' } },
              {
                Update: {
                  TableName,
                  Key: balanceKey(operatorId),
                  UpdateExpression: 'SET balance = :after, version = :next, available = available + :amount',
                  // A negative adjustment may not take the balance past what is available (holds included).
                  ConditionExpression: fields.amount < 0 ? 'version = :version AND available >= :need' : 'version = :version',
                  ExpressionAttributeValues: {
                    ':after': entry.balanceAfter,
                    ':next': state.version + 1,
                    ':version': state.version,
                    ':amount': fields.amount,
                    ...(fields.amount < 0 ? { ':need': -fields.amount } : {}),
                  },
                },
              },
              { Put: { TableName, Item: { ...ledgerKey(operatorId, entryId), entity: 'ledger', ...entry }, ConditionExpression: 'attribute_not_exists(pk)' } },
            ],
          }),
        );
        return { entry, created: true };
      } catch (error) {
        const failed = failedConditions(error);
        if (failed?.includes(1) && fields.amount < 0) {
          const now = await readBalance(operatorId);
          if (now && now.version === state.version) throw new InsufficientBalance(-fields.amount - (now.balance + now.creditLimit - now.reserved));
        }
        // The same reference at the same moment: the other one made it; read it on the next round.
        if ((failed?.includes(0) || failed?.includes(1) || isConflict(error)) && attempt < MAX_TRIES) {
          await backoff(attempt);
          continue;
        }
        throw error;
      }
    }
  },

  async ledger(operatorId, filter, limit, cursor) {
    const { min, max } = idRange(filter.from ? new Date(filter.from) : undefined, filter.to ? new Date(filter.to) : undefined);
    const partition = { attribute: 'pk', value: `OP#${operatorId}` };
    return queryPage(
      {
        TableName: config().TABLE_NAME,
        KeyConditionExpression: 'pk = :p AND sk BETWEEN :min AND :max',
        FilterExpression: filter.type ? '#type = :type' : undefined,
        ExpressionAttributeNames: filter.type ? { '#type': 'type' } : undefined,
        ExpressionAttributeValues: { ':p': partition.value, ':min': `LEDGER#${min}`, ':max': `LEDGER#${max}`, ...(filter.type ? { ':type': filter.type } : {}) },
        ScanIndexForward: false,
      },
      { limit, cursor, partition, keyAttributes: ['pk', 'sk'], map: toEntry },
    );
  },

  async *entries(operatorId, range = {}) {
    const { min, max } = idRange(range.from ? new Date(range.from) : undefined, range.to ? new Date(range.to) : undefined);
    let startKey: Record<string, unknown> | undefined;
    do {
      const reply = await documentClient().send(
        new QueryCommand({
          TableName: config().TABLE_NAME,
          KeyConditionExpression: 'pk = :p AND sk BETWEEN :min AND :max',
          ExpressionAttributeValues: { ':p': `OP#${operatorId}`, ':min': `LEDGER#${min}`, ':max': `LEDGER#${max}` },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of reply.Items ?? []) yield toEntry(item);
      startKey = reply.LastEvaluatedKey;
    } while (startKey);
  },

  async *openHolds(before) {
    for (let shard = 0; shard < PENDING_SHARDS; shard++) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const reply = await documentClient().send(
          new QueryCommand({
            TableName: config().TABLE_NAME,
            IndexName: 'gsi3',
            KeyConditionExpression: 'gsi3pk = :p AND gsi3sk < :before',
            ExpressionAttributeValues: { ':p': key.pendingIndex('hold', shard), ':before': before },
            ExclusiveStartKey: startKey,
          }),
        );
        const found = (reply.Items ?? []).flatMap((item) => {
          const sk = String(item.sk);
          return sk.startsWith('HOLD#') ? [{ operatorId: String(item.pk).slice(3), messageId: sk.slice(5) }] : [];
        });
        if (found.length > 0) yield found;
        startKey = reply.LastEvaluatedKey;
      } while (startKey);
    }
  },

  async markLowBalance(operatorId, alerted) {
    try {
      await documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: balanceKey(operatorId),
          UpdateExpression: 'SET lowBalanceAlerted = :value',
          ConditionExpression: alerted ? 'attribute_exists(pk) AND (attribute_not_exists(lowBalanceAlerted) OR lowBalanceAlerted = :false)' : 'lowBalanceAlerted = :true',
          ExpressionAttributeValues: alerted ? { ':value': true, ':false': false } : { ':value': false, ':true': true },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  },

  async setLimits(operatorId, limits) {
    if (limits.lowBalanceThreshold !== undefined) {
      await documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: balanceKey(operatorId),
          UpdateExpression: limits.lowBalanceThreshold === null ? 'REMOVE lowBalanceThreshold' : 'SET lowBalanceThreshold = :threshold',
          ConditionExpression: 'attribute_exists(pk)',
          ...(limits.lowBalanceThreshold === null ? {} : { ExpressionAttributeValues: { ':threshold': limits.lowBalanceThreshold } }),
        }),
      );
    }
    if (limits.creditLimit === undefined) return;
    const current = await readBalance(operatorId);
    if (!current) return;
    await documentClient().send(
      new UpdateCommand({
        TableName: config().TABLE_NAME,
        Key: balanceKey(operatorId),
        UpdateExpression: 'SET creditLimit = :limit, available = available + :delta',
        ConditionExpression: 'creditLimit = :was',
        ExpressionAttributeValues: { ':limit': limits.creditLimit, ':delta': limits.creditLimit - current.creditLimit, ':was': current.creditLimit },
      }),
    );
  },

};
