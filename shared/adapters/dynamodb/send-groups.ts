/**
 * A send group's claim: one small item for up to ten broadcast messages, in place of a claim write
 * on each message (a tenth of the writes). Kept a week (ttl), then forgotten: by then every task
 * that could name the group has left SQS (14 days at most, but a group's tasks are days at most).
 *
 *   OP#<op>  SENDGROUP#<group>   claimedUntil, claimedAt; state "done" once finished (or closed by a cancel)
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { SendGroupClaim, SendGroupStore } from '../../ports.js';
import { documentClient } from './client.js';

const TTL_SECONDS = 7 * 24 * 3600;

export const sendGroupKey = (op: string, group: string) => ({ pk: `OP#${op}`, sk: `SENDGROUP#${group}` });

export const dynamoSendGroupStore: SendGroupStore = {
  async claim(operatorId, group, until, now): Promise<SendGroupClaim> {
    try {
      const reply = await documentClient().send(
        new PutCommand({
          TableName: config().TABLE_NAME,
          Item: { ...sendGroupKey(operatorId, group), entity: 'sendGroup', claimedUntil: until, claimedAt: now, ttl: Math.floor(Date.parse(now) / 1000) + TTL_SECONDS },
          // New, or a claim that expired (its worker died); never a finished group.
          ConditionExpression: 'attribute_not_exists(pk) OR (attribute_not_exists(#state) AND claimedUntil < :now)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':now': now },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const previous = reply.Attributes;
      if (!previous) return { state: 'claimed' };
      return { state: 'taken-over', claimedAt: String(previous.claimedAt), claimedUntil: String(previous.claimedUntil) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = error.Item ? unmarshall(error.Item) : undefined;
      if (!current || current.state === 'done') return { state: 'done' };
      return { state: 'busy', until: String(current.claimedUntil) };
    }
  },

  async close(operatorId, group, at) {
    try {
      await documentClient().send(
        new PutCommand({
          TableName: config().TABLE_NAME,
          Item: { ...sendGroupKey(operatorId, group), entity: 'sendGroup', state: 'done', finishedAt: at, closedBy: 'cancel', ttl: Math.floor(Date.parse(at) / 1000) + TTL_SECONDS },
          // Never claimed: a worker that comes later finds it done. Claimed ever: not the cancel's to touch.
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'closed';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = error.Item ? unmarshall(error.Item) : undefined;
      return current?.state === 'done' ? 'done' : 'held';
    }
  },

  async finish(operatorId, group, at) {
    await documentClient().send(
      new UpdateCommand({
        TableName: config().TABLE_NAME,
        Key: sendGroupKey(operatorId, group),
        UpdateExpression: 'SET #state = :done, finishedAt = :at REMOVE claimedUntil',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':done': 'done', ':at': at },
      }),
    );
  },
};
