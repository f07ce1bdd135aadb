/**
 * The table's stream → broadcast counters. The event source mapping's filter sends only message
 * items that carry a broadcastId (shared/catalog.ts streamFunctions); anything else in a batch is
 * ignored all the same.
 *
 * Idempotency is per stream shard: a plain DynamoDB stream event does not say which shard its
 * records came from (only the stream's ARN), but one with a tumbling window does (`shardId`), so the
 * mapping has one (lib/constructs/stream-consumers.ts) and the local poller sets it too. Without it
 * every shard would share the stream's ARN, and a shard whose sequence numbers run below another's
 * would have its records taken for counted ones.
 *
 * A failure throws: the whole batch is retried (bisected), then lands in the DLQ; records counted
 * before the failure are skipped on the retry.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue as StreamAttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { StreamChange } from '../../shared/domain/broadcast-count-deltas.js';
import { deps } from '../../shared/deps.js';
import { logger } from '../../shared/logger.js';
import { countBroadcastMoves } from '../../shared/services/broadcast-counters.js';

/** A stream event, with the fields Lambda adds when the mapping has a tumbling window. */
export type CounterStreamEvent = DynamoDBStreamEvent & { shardId?: string; isFinalInvokeForWindow?: boolean };

// The event's attribute values are DynamoDB JSON, as the SDK's (binary as base64, which counters never read).
const image = (value: Record<string, StreamAttributeValue> | undefined) => (value ? unmarshall(value as Record<string, AttributeValue>) : undefined);

function toChange(record: DynamoDBRecord): StreamChange | undefined {
  const { eventName, dynamodb } = record;
  if (!eventName || !dynamodb?.SequenceNumber) return undefined;
  return { eventName, sequenceNumber: dynamodb.SequenceNumber, oldImage: image(dynamodb.OldImage), newImage: image(dynamodb.NewImage) };
}

export const handler = middy<CounterStreamEvent>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const records = event.Records ?? [];
    const streamShard = event.shardId ?? records[0]?.eventSourceARN ?? 'stream';
    const changes = records.flatMap((record) => toChange(record) ?? []);
    const counted = await countBroadcastMoves(deps(), changes, streamShard);
    if (counted.alreadyCounted > 0) logger.info('Stream records counted before were skipped (a retried batch)', { streamShard, ...counted });
    // A tumbling window's invocation must answer with a state; this function keeps none of its own.
    return { state: {} };
  });
