/**
 * Reminders that send themselves (`/v1/notifiers/due-date`, `/v1/notifiers/expiration`): a ladder
 * of steps (3 days before, on the day, 2 days after...), run once a day at `sendAt` in the
 * operator's time zone by an EventBridge Scheduler schedule (the local stack runs the same one).
 *
 * A run is a broadcast of kind `reminder` per step, through the broadcast pipeline: the bills due
 * (or services expiring) on the run's day + offset, found by a Query on a date key. Never twice:
 * each step's broadcast has an id derived from (notifier, day, step) and its messages ids derived
 * from (broadcast, customer), so a schedule that fires twice, a retried run or a catch-up of a day
 * that already ran sends nothing more. Paid bills and renewed services are checked again when each
 * message is about to leave.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { dailyCron } from '../domain/cron.js';
import { broadcastMessageId, messagePrefixAt } from '../domain/broadcast-ids.js';
import { invalid, notFound } from '../domain/errors.js';
import type { Notifier, NotifierKind, Operator } from '../domain/records.js';
import { assertTimeZone } from '../domain/zoned-time.js';
import { addDays } from '../domain/days.js';
import { localDay } from '../domain/rate-limit.js';
import type { Deps } from '../deps.js';
import { createBroadcast, type BroadcastDeps } from './broadcasts.js';
import { getTemplate } from './templates.js';

export const NOTIFIER_KINDS = ['due-date', 'expiration'] as const satisfies readonly NotifierKind[];

export const NotifierInput = z
  .strictObject({
    enabled: z.boolean(),
    steps: z
      .array(
        z.strictObject({
          offsetDays: z.number().int().min(-60).max(60).describe('Days before the due (or expiry) date; 0 on the day, negative after.'),
          templateId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'must be a template id'),
          channel: z.enum(['auto', 'sms', 'whatsapp', 'email']).default('auto'),
        }),
      )
      .max(10, 'must hold at most 10 steps')
      .default([]),
    sendAt: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM, 24-hour').default('09:30'),
    timezone: z.string().min(1).max(64).optional().describe('IANA time zone; default the operator\'s.'),
  })
  .superRefine((input, ctx) => {
    const seen = new Set<number>();
    input.steps.forEach((step, i) => {
      if (seen.has(step.offsetDays)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'offsetDays'], message: 'is used by another step' });
      seen.add(step.offsetDays);
    });
    if (input.enabled && input.steps.length === 0) ctx.addIssue({ code: 'custom', path: ['steps'], message: 'an enabled notifier needs at least one step' });
  })
  .meta({ id: 'NotifierInput' });

export const NotifierRunInput = z.strictObject({
  date: z.iso.date({ error: 'must be a date, YYYY-MM-DD' }).describe('The day to run for (a run that did not happen); default today in the notifier\'s time zone.'),
});

type D = BroadcastDeps & Pick<Deps, 'notifiers'>;

export function assertNotifierKind(kind: string): NotifierKind {
  if (!(NOTIFIER_KINDS as readonly string[]).includes(kind)) throw notFound(`Notifier "${kind}" (there are due-date and expiration)`);
  return kind as NotifierKind;
}

/** The schedule's name: Scheduler names are at most 64 characters, operator ids may be as long. */
export const notifierScheduleName = (operatorId: string, kind: NotifierKind) =>
  `notifier-${kind}-${createHash('sha256').update(operatorId).digest('hex').slice(0, 24)}`;

/** EventBridge Scheduler writes the fire's scheduled time here: a retried fire still runs for its own day. */
export const SCHEDULED_TIME = '<aws.scheduler.scheduled-time>';

const disabled = (operator: Operator, kind: NotifierKind): Notifier => ({ kind, enabled: false, steps: [], sendAt: '09:30', timezone: operator.timezone, updatedAt: operator.createdAt });

export async function getNotifier(d: Pick<D, 'notifiers'>, operator: Operator, kind: NotifierKind): Promise<Notifier> {
  return (await d.notifiers.get(operator.id, kind)) ?? disabled(operator, kind);
}

/** Saves the ladder, then creates or updates its daily schedule (or deletes it when disabled). */
export async function putNotifier(d: D, operator: Operator, kind: NotifierKind, input: z.infer<typeof NotifierInput>): Promise<Notifier> {
  const timezone = input.timezone ?? operator.timezone;
  try {
    assertTimeZone(timezone);
  } catch {
    throw invalid(`Unknown time zone "${timezone}".`, [{ field: 'timezone', message: 'must be an IANA time zone such as Asia/Dhaka' }]);
  }
  // Every template must exist now, not at 09:30 tomorrow.
  for (const [i, step] of input.steps.entries()) {
    try {
      await getTemplate(d, operator, step.templateId);
    } catch {
      throw invalid(`Step ${i + 1} names template "${step.templateId}", which does not exist.`, [{ field: `steps.${i}.templateId`, message: `no template with id "${step.templateId}"` }]);
    }
  }
  const notifier: Notifier = { kind, enabled: input.enabled, steps: input.steps, sendAt: input.sendAt, timezone, updatedAt: d.clock.now().toISOString() };
  const name = notifierScheduleName(operator.id, kind);
  // The schedule first: a saved ladder that would never run is worse than an error now.
  if (notifier.enabled) {
    await d.scheduler.recurring(name, dailyCron(notifier.sendAt), timezone, { queue: 'broadcasts', body: { type: 'notifier', operatorId: operator.id, kind, scheduledTime: SCHEDULED_TIME } }, { flexibleWindowMinutes: 15 });
  } else {
    await d.scheduler.delete(name);
  }
  await d.notifiers.put(operator.id, notifier);
  return notifier;
}

/** A step's broadcast id for a day: ULID-shaped, sorted by that day, and the same however often it is asked for. */
export function reminderBroadcastId(kind: NotifierKind, date: string, step: number): string {
  return broadcastMessageId(messagePrefixAt(new Date(Date.parse(`${date}T00:00:00Z`) + step)), `notifier:${kind}`, `${date}:${step}`);
}

/**
 * Runs the notifier for `date` (default: today where the notifier lives): one reminder broadcast
 * per step, each for the bills due (or services expiring) on date + offsetDays. `scheduled`: a
 * schedule fired it, so a disabled notifier does nothing (a catch-up asked by hand runs its steps anyway).
 */
export async function runNotifier(d: D, operator: Operator, kind: NotifierKind, options: { date?: string; scheduled?: boolean; scheduledTime?: string } = {}) {
  const notifier = await d.notifiers.get(operator.id, kind);
  if (!notifier || (options.scheduled && !notifier.enabled)) return { kind, date: options.date ?? null, steps: [] };
  const firedFor = options.scheduledTime && !Number.isNaN(Date.parse(options.scheduledTime)) ? new Date(options.scheduledTime) : d.clock.now();
  const date = options.date ?? localDay(firedFor, notifier.timezone);
  const steps = [];
  for (const [i, step] of notifier.steps.entries()) {
    const target = addDays(date, step.offsetDays);
    const { body } = await createBroadcast(
      d,
      operator,
      {
        kind: 'reminder',
        name: `${kind === 'due-date' ? 'Due-date' : 'Expiry'} reminder, ${step.offsetDays} day(s) before ${target} (run of ${date})`,
        filter: kind === 'due-date' ? { dueOn: target } : { expiresOn: target },
        channel: step.channel,
        templateId: step.templateId,
        category: 'transactional',
        dryRun: false,
      },
      { id: reminderBroadcastId(kind, date, i), reminder: { notifier: kind, step: i, date } },
    );
    steps.push({ step: i, offsetDays: step.offsetDays, [kind === 'due-date' ? 'dueOn' : 'expiresOn']: target, broadcastId: body.id, state: body.state, recipients: body.recipients });
  }
  return { kind, date, steps };
}
