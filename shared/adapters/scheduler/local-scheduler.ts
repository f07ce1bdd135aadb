/**
 * The local stack's EventBridge Scheduler: schedules kept in DynamoDB (pk SCHEDULES, sk SCHED#<name>),
 * fired by local-schedule-loop.ts on the times shared/domain/cron.ts computes. A flexible window is
 * stored but not used: locally a schedule fires at the start of its window, so a demo is predictable.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import { nextFireTimes, parseCron } from '../../domain/cron.js';
import { invalid } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { assertTimeZone } from '../../domain/zoned-time.js';
import type { Clock, Scheduler, ScheduleTarget } from '../../ports.js';
import { documentClient } from '../dynamodb/client.js';
import { flexibleWindowMinutes, onceInstant, scheduleName, targetInput } from './schedule-rules.js';

const PARTITION = 'SCHEDULES';
const sortKey = (name: string) => `SCHED#${name}`;

export interface StoredSchedule {
  /** The sanitized name (schedule-rules.ts), as EventBridge would hold it. */
  name: string;
  kind: 'once' | 'recurring';
  /** `at(2026-03-08T07:00:00)` or `cron(30 9 * * ? *)`. */
  expression: string;
  timezone: string;
  target: ScheduleTarget;
  flexibleWindowMinutes?: number;
  /** ISO; the loop fires the schedule when this has passed. */
  nextFireAt: string;
  /** Changes with every put: a loop's conditional write never applies to a schedule replaced meanwhile. */
  revision: string;
}

async function write(schedule: Omit<StoredSchedule, 'revision'>): Promise<void> {
  await documentClient().send(
    new PutCommand({
      TableName: config().TABLE_NAME,
      Item: { pk: PARTITION, sk: sortKey(schedule.name), entity: 'schedule', ...schedule, revision: newId() },
    }),
  );
}

export function localScheduler(clock: Clock): Scheduler {
  return {
    async once(name, at, target) {
      targetInput(target);
      const instant = onceInstant(at);
      await write({
        name: scheduleName(name),
        kind: 'once',
        expression: `at(${instant.toISOString().slice(0, 19)})`,
        timezone: 'UTC',
        target,
        nextFireAt: instant.toISOString(),
      });
    },

    async recurring(name, cron, timezone, target, options = {}) {
      targetInput(target);
      const parsed = parseCron(cron);
      assertTimeZone(timezone);
      const [first] = nextFireTimes(parsed, timezone, clock.now(), 1);
      if (!first) throw invalid(`${parsed.expression} never fires again.`);
      await write({
        name: scheduleName(name),
        kind: 'recurring',
        expression: parsed.expression,
        timezone,
        target,
        flexibleWindowMinutes: flexibleWindowMinutes(options.flexibleWindowMinutes),
        nextFireAt: first.toISOString(),
      });
    },

    async delete(name) {
      await documentClient().send(new DeleteCommand({ TableName: config().TABLE_NAME, Key: { pk: PARTITION, sk: sortKey(scheduleName(name)) } }));
    },
  };
}

async function query(now?: Date): Promise<StoredSchedule[]> {
  const found: StoredSchedule[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const reply = await documentClient().send(
      new QueryCommand({
        TableName: config().TABLE_NAME,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ...(now ? { FilterExpression: 'nextFireAt <= :now' } : {}),
        ExpressionAttributeValues: { ':pk': PARTITION, ':prefix': 'SCHED#', ...(now ? { ':now': now.toISOString() } : {}) },
        ConsistentRead: true,
        ExclusiveStartKey,
      }),
    );
    found.push(...((reply.Items ?? []) as StoredSchedule[]));
    ExclusiveStartKey = reply.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return found;
}

/** What the fire loop needs from the table. */
export const localScheduleStore = {
  /** Schedules whose nextFireAt has passed (one partition, strongly consistent: they are few). */
  due: (now: Date) => query(now),

  /** Every schedule, as stored now. */
  list: () => query(),

  /**
   * Moves nextFireAt from the value read to `next`, only if nobody did so first (another loop) and
   * the schedule was not replaced: true means this caller fires it.
   */
  async move(schedule: StoredSchedule, from: string, next: string): Promise<boolean> {
    try {
      await documentClient().send(
        new UpdateCommand({
          TableName: config().TABLE_NAME,
          Key: { pk: PARTITION, sk: sortKey(schedule.name) },
          UpdateExpression: 'SET nextFireAt = :next',
          ConditionExpression: 'nextFireAt = :from AND revision = :revision',
          ExpressionAttributeValues: { ':next': next, ':from': from, ':revision': schedule.revision },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  },

  /** Deletes a schedule that has fired for the last time, unless it was replaced meanwhile. */
  async remove(schedule: StoredSchedule, nextFireAt: string): Promise<void> {
    try {
      await documentClient().send(
        new DeleteCommand({
          TableName: config().TABLE_NAME,
          Key: { pk: PARTITION, sk: sortKey(schedule.name) },
          ConditionExpression: 'nextFireAt = :at AND revision = :revision',
          ExpressionAttributeValues: { ':at': nextFireAt, ':revision': schedule.revision },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  },
};
