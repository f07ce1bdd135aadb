/**
 * Fires the local scheduler's due schedules: each puts its body on its queue through the TaskQueue
 * port, as EventBridge's SQS target would. A schedule is taken before it is fired, with a conditional
 * write on the nextFireAt that was read, so two loops (or a restarted one) never fire it twice.
 */
import { randomBytes } from 'node:crypto';
import { nextFireTimes } from '../../domain/cron.js';
import type { Clock, TaskQueue } from '../../ports.js';
import { localScheduleStore, type StoredSchedule } from './local-scheduler.js';
import { MAX_EVENT_AGE_SECONDS } from './schedule-rules.js';

export interface ScheduleLoopDeps {
  queue: TaskQueue;
  clock: Clock;
}

/** A one-time schedule taken but not yet deleted fires again after this (its loop died mid-fire): at least once, as on AWS. */
const ONCE_LEASE_MS = 60_000;

/**
 * The body with EventBridge Scheduler's context attributes filled in, as it fills them in a target's
 * Input (a notifier reads the day it runs for from <aws.scheduler.scheduled-time>).
 */
export function withContext(schedule: Pick<StoredSchedule, 'name' | 'target'>, scheduledAt: string): Record<string, unknown> {
  const values: Record<string, string> = {
    'scheduled-time': `${scheduledAt.slice(0, 19)}Z`,
    'schedule-arn': `arn:aws:scheduler:${process.env.AWS_REGION ?? 'us-east-1'}:000000000000:schedule/local/${schedule.name}`,
    'execution-id': randomBytes(8).toString('hex'),
    'attempt-number': '1',
  };
  const input = JSON.stringify(schedule.target.body);
  return JSON.parse(input.replace(/<aws\.scheduler\.([a-z-]+)>/g, (keyword, name: string) => values[name] ?? keyword)) as Record<string, unknown>;
}

async function fire(d: ScheduleLoopDeps, schedule: StoredSchedule, now: Date): Promise<boolean> {
  const seen = schedule.nextFireAt;
  // A recurring schedule re-arms after now, not after the missed time: a laptop that slept fires once, not a burst.
  const next = schedule.kind === 'recurring' ? nextFireTimes(schedule.expression, schedule.timezone, now, 1)[0] : undefined;
  const taken = next ? next.toISOString() : new Date(now.getTime() + ONCE_LEASE_MS).toISOString();
  if (!(await localScheduleStore.move(schedule, seen, taken))) return false;

  if (now.getTime() - Date.parse(seen) > MAX_EVENT_AGE_SECONDS * 1000) {
    // EventBridge drops a fire older than MaximumEventAgeInSeconds (to its DLQ); so do we, with a line.
    console.error(`[scheduler] ${schedule.name}: the fire due at ${seen} is more than ${MAX_EVENT_AGE_SECONDS} s late; dropped.`);
  } else {
    try {
      await d.queue.enqueue(schedule.target.queue, [withContext(schedule, seen)]);
    } catch (error) {
      // Not fired: give the time back so the next pass tries again.
      await localScheduleStore.move(schedule, taken, seen);
      throw error;
    }
  }
  if (!next) await localScheduleStore.remove(schedule, taken);
  return true;
}

/** One pass: fires every due schedule once; answers how many this pass took. */
export async function fireDueSchedules(d: ScheduleLoopDeps): Promise<number> {
  const now = d.clock.now();
  let fired = 0;
  for (const schedule of await localScheduleStore.due(now)) {
    try {
      if (await fire(d, schedule, now)) fired += 1;
    } catch (error) {
      console.error(`[scheduler] ${schedule.name} did not fire:`, error instanceof Error ? error.message : error);
    }
  }
  return fired;
}

export interface ScheduleLoop {
  /** Stops, after the pass under way. */
  stop(): Promise<void>;
}

/** Runs fireDueSchedules every `intervalMs` (default 1 s), one pass at a time. */
export function startLocalScheduleLoop(d: ScheduleLoopDeps, options: { intervalMs?: number } = {}): ScheduleLoop {
  const intervalMs = options.intervalMs ?? 1_000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();
  const run = () => {
    pass = fireDueSchedules(d)
      .then(() => undefined)
      .catch((error: unknown) => {
        // The table unreachable (DynamoDB stopping): the next pass tries again.
        if (!stopped) console.error('[scheduler] pass failed:', error instanceof Error ? error.message : error);
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(run, intervalMs).unref();
      });
  };
  timer = setTimeout(run, intervalMs).unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pass;
    },
  };
}
