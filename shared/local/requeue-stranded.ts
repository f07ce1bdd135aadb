import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../adapters/dynamodb/client.js';
import { config } from '../config.js';
import type { Deps } from '../deps.js';
import type { SendTask } from '../ports.js';

/**
 * The local SQS server keeps its queues in memory, so a restart of `npm start` loses tasks that
 * were waiting. Their messages are still `queued` in DynamoDB Local (kept under .data/): put them
 * back on the queue at start-up. A duplicate is harmless, since the sender's claim makes each send
 * happen at most once. On AWS, SQS is durable and this is not needed; a local database is small,
 * so one filtered Scan at start-up is fine here.
 */
export async function requeueStrandedMessages(d: Pick<Deps, 'queue'>): Promise<number> {
  const tasks: SendTask[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documentClient().send(
      new ScanCommand({
        TableName: config().TABLE_NAME,
        FilterExpression: 'entity = :message AND #status = :queued',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':message': 'message', ':queued': 'queued' },
        ProjectionExpression: 'operatorId, id',
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) tasks.push({ operatorId: String(item.operatorId), messageId: String(item.id) });
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  if (tasks.length > 0) await d.queue.enqueue('send-sms', tasks);
  return tasks.length;
}
