/**
 * What both schedulers (EventBridge and the local stand-in) check the same way: names, targets,
 * the flexible window and the retry policy, so a schedule the local stack takes is one AWS takes.
 */
import { createHash } from 'node:crypto';
import { queues } from '../../catalog.js';
import { invalid } from '../../domain/errors.js';
import type { ScheduleTarget } from '../../ports.js';

/** A fire older than this is dropped (EventBridge: MaximumEventAgeInSeconds; it then goes to the DLQ). */
export const MAX_EVENT_AGE_SECONDS = 86_400;
/** EventBridge Scheduler's maximum; with the 24-hour age above, retries stop at whichever comes first. */
export const MAX_RETRY_ATTEMPTS = 185;
/** A recurring schedule's window when the caller names none: spreads operators' 09:30 runs over 15 minutes. */
export const DEFAULT_FLEXIBLE_WINDOW_MINUTES = 15;
/** EventBridge Scheduler's limit on a target's Input. */
const MAX_INPUT_CHARS = 8_192;

const VALID_NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;

/**
 * The name EventBridge Scheduler accepts ([0-9a-zA-Z-_.]{1,64}): a valid name as it is; any other
 * gets its other characters replaced and a hash of the original appended, so two names never meet.
 */
export function scheduleName(name: string): string {
  if (name.length === 0) throw invalid('A schedule needs a name.');
  if (VALID_NAME.test(name)) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 10);
  return `${name.replace(/[^0-9a-zA-Z\-_.]/g, '-').slice(0, 64 - hash.length - 1)}-${hash}`;
}

/** The target's body as the schedule's Input; refuses a queue no schedule may target, and a body too large. */
export function targetInput(target: ScheduleTarget): string {
  if (!queues[target.queue]?.arnEnv) {
    throw new Error(`The ${target.queue} queue is not a schedule target: give it an arnEnv in shared/catalog.ts.`);
  }
  const input = JSON.stringify(target.body);
  if (input.length > MAX_INPUT_CHARS) throw new Error(`A schedule's body is at most ${MAX_INPUT_CHARS} characters of JSON; this one has ${input.length}.`);
  return input;
}

/** Minutes of flexible window: undefined gives the default, 0 none (fire at the minute), at most 1440. */
export function flexibleWindowMinutes(requested: number | undefined): number {
  const minutes = requested ?? DEFAULT_FLEXIBLE_WINDOW_MINUTES;
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > 1440) {
    throw invalid(`A flexible window is 0 to 1440 whole minutes, not ${minutes}.`);
  }
  return minutes;
}

/** An instant `once` can fire at: a real date, taken to the second (EventBridge's `at()` has no fractions). */
export function onceInstant(at: Date): Date {
  if (Number.isNaN(at.getTime())) throw invalid('A one-time schedule needs a valid date.');
  return new Date(Math.floor(at.getTime() / 1000) * 1000);
}
