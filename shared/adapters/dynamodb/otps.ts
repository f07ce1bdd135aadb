/** One-time passwords (shared/services/otp.ts): the record, its single use, and the per-number send window. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { OtpRecord, OtpStore } from '../../ports.js';
import { documentClient } from './client.js';
import { stripKeys } from './query-page.js';
import { key } from './table.js';

/** Records outlive their codes by a day (for support questions), then TTL deletes them. */
const KEPT_AFTER_EXPIRY_SECONDS = 24 * 60 * 60;
/** Tries of the optimistic write of a number's send window before answering "busy". */
const WINDOW_WRITE_TRIES = 5;

const ttlOf = (iso: string) => Math.floor(Date.parse(iso) / 1000) + KEPT_AFTER_EXPIRY_SECONDS;

async function conditional<T>(run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

export const dynamoOtpStore: OtpStore = {
  async put(record) {
    await documentClient().send(
      new PutCommand({
        TableName: config().TABLE_NAME,
        Item: { ...key.otp(record.operatorId, record.id), entity: 'otp', ...record, ttl: ttlOf(record.expiresAt) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  },

  async get(operatorId, id) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: key.otp(operatorId, id), ConsistentRead: true }));
    return reply.Item ? stripKeys<OtpRecord>(reply.Item) : undefined;
  },

  async consume(operatorId, id, now) {
    const done = await conditional(() =>
      documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: key.otp(operatorId, id),
          UpdateExpression: 'SET consumedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(consumedAt) AND attemptsLeft > :zero AND expiresAt > :now',
          ExpressionAttributeValues: { ':now': now, ':zero': 0 },
        }),
      ),
    );
    return done !== undefined;
  },

  async spendAttempt(operatorId, id) {
    const reply = await conditional(() =>
      documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: key.otp(operatorId, id),
          UpdateExpression: 'SET attemptsLeft = attemptsLeft - :one',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(consumedAt) AND attemptsLeft > :zero',
          ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    return reply ? Number(reply.Attributes?.attemptsLeft) : undefined;
  },

  async noteSend(operatorId, to, now, limit, windowMs) {
    const TableName = config().TABLE_NAME;
    const itemKey = key.otpRecent(operatorId, to);
    for (let attempt = 0; attempt < WINDOW_WRITE_TRIES; attempt++) {
      const current = (await documentClient().send(new GetCommand({ TableName, Key: itemKey, ConsistentRead: true }))).Item;
      const since = now.getTime() - windowMs;
      const recent = ((current?.sentAt as string[] | undefined) ?? []).filter((at) => Date.parse(at) > since).sort();
      if (recent.length >= limit) return { ok: false, retryAt: new Date(Date.parse(recent[0]!) + windowMs).toISOString() };
      const version = Number(current?.version ?? 0);
      // Optimistic: written only if nobody else wrote since we read (a version number), else read again.
      const written = await conditional(() =>
        documentClient().send(
          new PutCommand({
            TableName,
            Item: { ...itemKey, entity: 'otpRecent', sentAt: [...recent, now.toISOString()], version: version + 1, ttl: Math.floor((now.getTime() + windowMs) / 1000) + 60 },
            ConditionExpression: current ? 'version = :version' : 'attribute_not_exists(pk)',
            ...(current ? { ExpressionAttributeValues: { ':version': version } } : {}),
          }),
        ),
      );
      if (written) return { ok: true };
    }
    throw new Error(`The OTP send window of ${to} kept changing under concurrent requests; try again.`);
  },
};
