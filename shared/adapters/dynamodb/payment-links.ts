/** Payment links (shared/services/payment-links.ts): one item per link, keyed by its id alone. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { PaymentLink } from '../../domain/records.js';
import type { PaymentLinkStore } from '../../ports.js';
import { batchGet } from './batch-get.js';
import { batchPut } from './batch-write.js';
import { documentClient } from './client.js';
import { stripKeys } from './query-page.js';
import { key } from './table.js';

/** User agents are kept for support questions, not fingerprinting: the start is enough. */
export const MAX_USER_AGENT_LENGTH = 200;

export const dynamoPaymentLinkStore: PaymentLinkStore = {
  async putMany(links) {
    await batchPut(links.map((link) => ({ ...key.paymentLink(link.id), entity: 'paymentLink', ...link })));
  },

  async get(linkId) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: key.paymentLink(linkId), ConsistentRead: true }));
    return reply.Item ? stripKeys<PaymentLink>(reply.Item) : undefined;
  },

  async getMany(linkIds) {
    const items = await batchGet([...new Set(linkIds)].map((id) => key.paymentLink(id)));
    return new Map(items.map((item) => stripKeys<PaymentLink>(item)).map((link) => [link.id, link]));
  },

  async recordClick(linkId, at, userAgent) {
    const agent = userAgent?.slice(0, MAX_USER_AGENT_LENGTH);
    try {
      const reply = await documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: key.paymentLink(linkId),
          UpdateExpression: `SET clicks = if_not_exists(clicks, :zero) + :one, firstClickAt = if_not_exists(firstClickAt, :at), lastClickAt = :at${agent ? ', userAgent = :agent' : ''}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':at': at, ...(agent ? { ':agent': agent } : {}) },
          // The old firstClickAt tells, in the same request, whether this click was the first.
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      return { first: reply.Attributes?.firstClickAt === undefined };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  },
};
