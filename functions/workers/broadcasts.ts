import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { deps } from '../../shared/deps.js';
import { logger } from '../../shared/logger.js';
import { runBroadcastTask, type BroadcastTask } from '../../shared/services/broadcast-fanout.js';
import { runNotifier } from '../../shared/services/notifiers.js';

const ids = { operatorId: z.string().min(1), broadcastId: z.string().min(1) };
const Task = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), ...ids }),
  z.object({ type: z.literal('plan'), ...ids, step: z.number().int().min(0), cursor: z.object({ part: z.number().int().min(0), key: z.record(z.string(), z.unknown()).optional() }) }),
  z.object({ type: z.literal('expand'), ...ids, page: z.number().int().min(0), rows: z.array(z.object({ customerId: z.string().optional(), customer: z.any().optional(), bill: z.any().optional() })) }),
  z.object({ type: z.literal('notifier'), operatorId: z.string().min(1), kind: z.enum(['due-date', 'expiration']), scheduledTime: z.string().optional() }),
  z.object({ type: z.literal('settle'), ...ids, page: z.number().int().min(0), messageIds: z.array(z.string().min(1)).max(1000), charges: z.array(z.object({ channel: z.string(), amount: z.number().int().min(0), messages: z.number().int().min(0), segments: z.number().int().min(0) })).max(8).optional() }),
  z.object({ type: z.literal('cancel'), ...ids, cursor: z.string().optional() }),
  z.object({ type: z.literal('receipts'), ...ids, round: z.number().int().min(0), cursor: z.string().optional(), unanswered: z.number().int().min(0).optional(), dueAt: z.number().optional() }),
]);

const processor = new BatchProcessor(EventType.SQS);

/** One broadcast step per record; a step that fails (or must wait for another) returns to the queue, then the DLQ. */
async function runOne(record: SQSRecord): Promise<void> {
  // A malformed task throws here and ends in the DLQ, where it can be inspected.
  const task = Task.parse(JSON.parse(record.body));
  if (task.type === 'notifier') {
    // A notifier's daily schedule fired: its steps become reminder broadcasts (queued back here).
    const operator = await deps().operators.get(task.operatorId);
    if (operator) await runNotifier(deps(), operator, task.kind, { scheduled: true, ...(task.scheduledTime ? { scheduledTime: task.scheduledTime } : {}) });
    return;
  }
  const outcome = await runBroadcastTask(deps(), task as BroadcastTask);
  logger.debug('Broadcast step', { type: task.type, outcome });
}

export const handler = async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, runOne, processor, { context, throwOnFullBatchFailure: false });
