/**
 * DynamoDB Streams records (as GetRecords returns them) in the shape a Lambda event source mapping
 * hands them to a function: DynamoDB JSON with binary as base64, the creation time in epoch seconds,
 * and the event's own `shardId` and `eventSourceARN` (as Lambda sends them with a tumbling window).
 */
import type { AttributeValue as StreamValue, _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** One attribute value as Lambda's JSON has it. */
function toLambdaValue(value: StreamValue): AttributeValue {
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  return value as AttributeValue;
}

function toLambdaImage(image: Record<string, StreamValue>): Record<string, AttributeValue>;
function toLambdaImage(image: Record<string, StreamValue> | undefined): Record<string, AttributeValue> | undefined;
function toLambdaImage(image: Record<string, StreamValue> | undefined): Record<string, AttributeValue> | undefined {
  return image ? Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toLambdaValue(value)])) : undefined;
}

export function toLambdaRecord(record: StreamRecord, streamArn: string, region: string): DynamoDBRecord {
  const change = record.dynamodb ?? {};
  const created = change.ApproximateCreationDateTime;
  return {
    eventID: record.eventID ?? '',
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(created ? { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) } : {}),
      ...(change.Keys ? { Keys: toLambdaImage(change.Keys) } : {}),
      ...(change.NewImage ? { NewImage: toLambdaImage(change.NewImage) } : {}),
      ...(change.OldImage ? { OldImage: toLambdaImage(change.OldImage) } : {}),
      ...(change.SequenceNumber ? { SequenceNumber: change.SequenceNumber } : {}),
      ...(change.SizeBytes !== undefined ? { SizeBytes: change.SizeBytes } : {}),
      ...(change.StreamViewType ? { StreamViewType: change.StreamViewType } : {}),
    },
  };
}

/** The event of one batch of one shard. */
export type LocalStreamEvent = DynamoDBStreamEvent & { shardId: string; eventSourceARN: string; state: Record<string, never>; isFinalInvokeForWindow: false };

export const streamEvent = (records: DynamoDBRecord[], shardId: string, streamArn: string): LocalStreamEvent => ({
  Records: records,
  shardId,
  eventSourceARN: streamArn,
  state: {},
  isFinalInvokeForWindow: false,
});

type InvocationListener = (functionId: string, ms: number) => void;
const listeners = new Set<InvocationListener>();

/**
 * Told of every handler invocation a stream poller makes (the bench prices them as Lambda
 * invocations: reading the stream itself is free for a Lambda trigger). Returns an unsubscribe.
 */
export function onStreamInvocation(listener: InvocationListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function reportStreamInvocation(functionId: string, ms: number): void {
  for (const listener of listeners) listener(functionId, ms);
}
