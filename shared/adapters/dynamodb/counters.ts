/**
 * Limit counters, exact across processes: one item per operator, counter and period
 *   counter         OP#<op>            COUNT#<counter>#<period>          count, ttl
 *   counter claim   OP#<op>            COUNTCLAIM#<counter>#<claim key>   period, ttl
 * A take is one conditional ADD (the new count must stay at most the limit). With a claim (the
 * request's idempotency key) the ADD and the claim are written in one transaction, so a repeated
 * request finds its claim and counts nothing, however many processes serve the repeats.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, TransactWriteCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { CounterStore } from '../../ports.js';
import { documentClient } from './client.js';

export const counterKey = {
  counter: (op: string, counter: string, period: string) => ({ pk: `OP#${op}`, sk: `COUNT#${counter}#${period}` }),
  claim: (op: string, counter: string, claimKey: string) => ({ pk: `OP#${op}`, sk: `COUNTCLAIM#${counter}#${claimKey}` }),
};

export const dynamoCounterStore: CounterStore = {
  async take(operatorId, counter, period, limit, { expiresAt, claim, amount = 1 }) {
    if (limit < amount) return 'over-limit';
    const TableName = config().TABLE_NAME;
    const add = {
      TableName,
      Key: counterKey.counter(operatorId, counter, period),
      UpdateExpression: 'ADD #count :one SET #ttl = :ttl, #entity = :entity',
      ConditionExpression: 'attribute_not_exists(#count) OR #count <= :max',
      ExpressionAttributeNames: { '#count': 'count', '#ttl': 'ttl', '#entity': 'entity' },
      ExpressionAttributeValues: { ':one': amount, ':max': limit - amount, ':ttl': expiresAt, ':entity': 'counter' },
    } satisfies UpdateCommandInput;
    if (!claim) {
      try {
        await documentClient().send(new UpdateCommand(add));
        return 'taken';
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return 'over-limit';
        throw error;
      }
    }
    const now = Math.floor(Date.now() / 1000);
    try {
      await documentClient().send(
        new TransactWriteCommand({
          TransactItems: [
            { Update: add },
            {
              Put: {
                TableName,
                Item: { ...counterKey.claim(operatorId, counter, claim.key), entity: 'counterClaim', period, ttl: claim.expiresAt },
                // An expired claim may linger until TTL deletes it; it no longer counts.
                ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
                ExpressionAttributeNames: { '#ttl': 'ttl' },
                ExpressionAttributeValues: { ':now': now },
              },
            },
          ],
        }),
      );
      return 'taken';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [counted, claimed] = (error.CancellationReasons ?? []).map((reason) => reason.Code);
      // The claim decides first: a repeat is never "over the limit", whatever the count is now.
      if (claimed === 'ConditionalCheckFailed') return 'repeat';
      if (counted === 'ConditionalCheckFailed') return 'over-limit';
      throw error;
    }
  },

  async giveBack(operatorId, counter, period, claimKey) {
    const TableName = config().TABLE_NAME;
    try {
      await documentClient().send(
        new UpdateCommand({
          TableName,
          Key: counterKey.counter(operatorId, counter, period),
          UpdateExpression: 'ADD #count :minusOne',
          ConditionExpression: '#count >= :one',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':minusOne': -1, ':one': 1 },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    if (claimKey) {
      await documentClient().send(new DeleteCommand({ TableName, Key: counterKey.claim(operatorId, counter, claimKey) }));
    }
  },
};
