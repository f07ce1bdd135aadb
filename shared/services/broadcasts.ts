/**
 * Broadcasts (`/v1/broadcasts`): one message to every customer a filter finds, sent in the
 * background (broadcast-fanout.ts). Asking for one estimates it (recipients, segments, cost by
 * channel), refuses it with 402 when a prepaid balance cannot cover the estimate, and, unless it is
 * a dry run, starts it now or at `sendAt` (a one-time schedule).
 */
import { z } from 'zod';
import { conflict, DomainError, invalid, notFound, PaymentRequired } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { messagePrefixAt } from '../domain/broadcast-ids.js';
import type { Broadcast, BroadcastEstimate, BroadcastFilter, BroadcastKind, Channel, Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';
import type { AudienceCursor, AudienceRow, BroadcastCounts, Page, PriceTable } from '../ports.js';
import { audienceQuery, customersOfRows } from './broadcast-audience.js';
import { carriesPaymentLinks, firstPlanTask, renderForRecipient, type BroadcastTask, type FanoutDeps } from './broadcast-fanout.js';
import { costOf, pricesFor } from './billing.js';
import { buildMessage } from './messages.js';
import { getTemplate } from './templates.js';

const listOf = <T extends z.ZodType>(item: T) => z.array(item).min(1, 'must name at least one').max(50, 'must name at most 50');
const label = z.string().trim().min(1).max(64);

export const BroadcastFilterInput = z
  .strictObject({
    status: listOf(z.enum(['active', 'suspended', 'billed', 'expired'])).optional(),
    zone: listOf(label).optional(),
    package: listOf(label).optional(),
    resellerId: listOf(label).optional(),
    overdueDays: z.number().int().min(0).max(3650).optional().describe('Customers with an unpaid bill due at least this many days ago (operator\'s time zone).'),
  })
  .meta({ id: 'BroadcastFilter' });

export const BroadcastInput = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    kind: z.enum(['broadcast', 'payment_link']).default('broadcast'),
    filter: BroadcastFilterInput.default({}),
    channel: z.enum(['auto', 'sms', 'whatsapp', 'email']).default('auto'),
    text: z.string().min(1).max(4000).optional(),
    templateId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'must be a template id').optional(),
    subject: z.string().trim().min(1).max(200).optional().describe('Email with `text`: the subject.'),
    category: z.enum(['transactional', 'marketing']).default('transactional').describe('marketing skips suppressed numbers'),
    sendAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
    maxCost: z.number().int().min(0).max(1_000_000_000_000).optional().describe('Stop before spending more (minor units of the balance\'s currency).'),
    dryRun: z.boolean().default(false),
  })
  .superRefine((input, ctx) => {
    if ((input.text === undefined) === (input.templateId === undefined)) ctx.addIssue({ code: 'custom', path: ['text'], message: 'give either text or templateId' });
    if (input.kind === 'payment_link' && input.channel === 'email') ctx.addIssue({ code: 'custom', path: ['channel'], message: 'payment links go by sms, whatsapp or auto' });
    if (input.subject !== undefined && input.text === undefined) ctx.addIssue({ code: 'custom', path: ['subject'], message: 'is for text broadcasts (a template has its own email subject)' });
  })
  .meta({ id: 'BroadcastInput' });
export type BroadcastInputT = z.infer<typeof BroadcastInput>;

export const BroadcastListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(2048).optional(),
});

export type BroadcastDeps = FanoutDeps & Pick<Deps, 'scheduler'>;

/** Rows read to estimate segments and cost, and samples shown by a dry run. */
const SAMPLE_ROWS = 50;
/** How long the sample may read past pages whose filter matched too few, and the rows a page reads (a filter keeps few of them). */
const SAMPLE_BUDGET_MS = 3_000;
const SAMPLE_READ = 1_000;
const SAMPLES_SHOWN = 5;
/** sendAt: at least this far ahead (EventBridge Scheduler's one-time schedules are minute-grained). */
const MIN_SCHEDULE_AHEAD_MS = 60_000;

interface Sample {
  customerId: string;
  to: string;
  channel: Channel;
  text: string;
  segments?: number;
  cost: number;
}

/** Renders and routes the first rows of the audience, as the expand step would (nothing written). */
async function sampleAudience(d: BroadcastDeps, operator: Operator, broadcast: Broadcast): Promise<{ samples: Sample[]; rowsRead: number; more: boolean; prices: PriceTable }> {
  // A Query's Limit counts the rows it read, not those its filter kept: a zone whose customers come
  // late in the index matches nothing in the first pages. Read on (for a bounded time) until the sample is full.
  const query = audienceQuery(broadcast, operator, d.clock.now());
  const deadline = Date.now() + SAMPLE_BUDGET_MS;
  const rows: AudienceRow[] = [];
  let truncated = false;
  let next: AudienceCursor | undefined = { part: 0 };
  do {
    const page: { rows: AudienceRow[]; next?: AudienceCursor } = await d.audience.page(operator.id, query, next, SAMPLE_READ);
    const room = SAMPLE_ROWS - rows.length;
    // Rows left out of the sample still count: the audience is then more than the sample.
    if (page.rows.length > room) truncated = true;
    rows.push(...page.rows.slice(0, room));
    next = page.next;
  } while (next && rows.length < SAMPLE_ROWS && Date.now() < deadline);
  const [gateways, template, prices] = await Promise.all([
    d.gateways.list(operator.id),
    broadcast.templateId ? getTemplate(d, operator, broadcast.templateId, 'templateId') : Promise.resolve(undefined),
    pricesFor(d, operator.id),
  ]);
  const { recipients } = await customersOfRows(d, operator.id, broadcast, rows);
  const samples: Sample[] = [];
  for (const recipient of recipients) {
    const { customer } = recipient;
    try {
      const link = carriesPaymentLinks(broadcast, operator) && recipient.bill ? `${d.paymentLinkBaseUrl}/p/${'x'.repeat(27)}` : undefined;
      const content = await renderForRecipient(broadcast, operator, template, recipient, link);
      const message = await buildMessage(d, operator, { channel: broadcast.channel, customer, category: broadcast.category, content, lane: 'bulk', fields: { recipient: 'filter', content: broadcast.templateId ? 'templateId' : 'text' } }, gateways);
      samples.push({ customerId: customer.id, to: message.to, channel: message.channel, text: message.text, ...(message.segments !== undefined ? { segments: message.segments } : {}), cost: costOf(prices, message) });
    } catch (error) {
      // A template that cannot render for anyone is the caller's mistake: say so now.
      if (error instanceof DomainError && error.kind === 'Invalid' && error.fields.some((f) => f.field === 'templateId' || f.field === 'text' || f.field === 'variables')) throw error;
      if (!(error instanceof DomainError)) throw error;
    }
  }
  return { samples, rowsRead: recipients.length, more: next !== undefined || truncated, prices };
}

/** Recipients from a Query count; segments and cost scaled from the sample (exact when the sample is the whole audience). */
async function estimate(d: BroadcastDeps, operator: Operator, broadcast: Broadcast, sampled: Awaited<ReturnType<typeof sampleAudience>>): Promise<BroadcastEstimate> {
  const { prices } = sampled;
  // A request counts for a few seconds at most: past that the audience is huge, and the count so far is a lower bound.
  const counted = sampled.more
    ? await d.audience.count(operator.id, audienceQuery(broadcast, operator, d.clock.now()), { deadline: Date.now() + COUNT_BUDGET_MS })
    : { count: sampled.rowsRead, complete: true };
  const matching = counted.count;
  // Of those read, the share that can be messaged (a number, a route, not suppressed).
  const scale = sampled.rowsRead === 0 ? 0 : matching / sampled.rowsRead;
  const byChannel: BroadcastEstimate['byChannel'] = {};
  for (const sample of sampled.samples) {
    const entry = (byChannel[sample.channel] ??= { recipients: 0, segments: 0, cost: { amount: 0, currency: prices.currency } });
    entry.recipients += 1;
    entry.segments += sample.segments ?? 0;
    entry.cost.amount += sample.cost;
  }
  for (const entry of Object.values(byChannel)) {
    entry.recipients = Math.round(entry.recipients * scale);
    entry.segments = Math.round(entry.segments * scale);
    entry.cost.amount = Math.ceil(entry.cost.amount * scale);
  }
  const entries = Object.values(byChannel);
  return {
    recipients: entries.reduce((n, e) => n + e.recipients, 0),
    segments: entries.reduce((n, e) => n + e.segments, 0),
    cost: { amount: entries.reduce((n, e) => n + e.cost.amount, 0), currency: prices.currency },
    byChannel,
    ...(counted.complete ? {} : { countComplete: false as const }),
  };
}

/**
 * How long POST /v1/broadcasts counts the audience (1 MB of customers a Query page: about 2,500 of
 * them): tens of thousands on AWS, fewer on DynamoDB Local. Past it the reply says `countComplete:
 * false` and the recipients counted so far; the balance check uses that lower bound, and the pages'
 * holds skip what the balance cannot cover.
 */
const COUNT_BUDGET_MS = 5_000;

/** What createBroadcast takes: the API's input, or a reminder run's (kind reminder, a due or expiry day). */
export type BroadcastRequest = Omit<BroadcastInputT, 'kind' | 'filter'> & { kind: BroadcastKind; filter: BroadcastFilter };

export async function createBroadcast(
  d: BroadcastDeps,
  operator: Operator,
  input: BroadcastRequest,
  options: { resellerId?: string; /** A reminder run's own id: asking twice finds the first. */ id?: string; reminder?: Broadcast['reminder'] } = {},
): Promise<{ status: 200 | 202; body: Record<string, unknown> }> {
  const now = d.clock.now();
  if (input.sendAt !== undefined && Date.parse(input.sendAt) < now.getTime() + MIN_SCHEDULE_AHEAD_MS) {
    throw invalid('"sendAt" must be at least a minute from now; leave it out to send now.', [{ field: 'sendAt', message: 'must be at least a minute ahead' }]);
  }
  if (input.kind === 'payment_link' && !operator.paymentUrlTemplate) {
    throw conflict('Payment links need the page they lead to: set settings.paymentUrlTemplate with PATCH /v1/settings first.');
  }
  const at = now.toISOString();
  if (options.id) {
    const existing = await d.broadcasts.get(operator.id, options.id);
    if (existing) return { status: 200, body: summaryOf(existing) };
  }
  const broadcast: Broadcast = {
    id: options.id ?? newId(now),
    operatorId: operator.id,
    kind: input.kind,
    ...(input.name ? { name: input.name } : {}),
    filter: input.filter,
    channel: input.channel,
    ...(input.text !== undefined ? { text: input.text } : {}),
    ...(input.templateId !== undefined ? { templateId: input.templateId } : {}),
    ...(input.subject !== undefined ? { subject: input.subject } : {}),
    category: input.category,
    ...(options.resellerId ? { resellerId: options.resellerId } : {}),
    ...(input.sendAt ? { sendAt: new Date(input.sendAt).toISOString() } : {}),
    ...(input.maxCost !== undefined ? { maxCost: input.maxCost } : {}),
    state: input.sendAt ? 'scheduled' : 'planning',
    estimate: { recipients: 0, segments: 0, cost: { amount: 0, currency: 'BDT' }, byChannel: {} },
    planStep: 0,
    planned: 0,
    pages: 0,
    pagesDone: 0,
    skipped: {},
    ...(input.sendAt ? {} : { messagePrefix: messagePrefixAt(now), startedAt: at }),
    ...(options.reminder ? { reminder: options.reminder } : {}),
    createdAt: at,
    updatedAt: at,
  };
  const sampled = await sampleAudience(d, operator, broadcast);
  broadcast.estimate = await estimate(d, operator, broadcast, sampled);
  const summary = { ...summaryOf(broadcast), ...(input.dryRun ? { state: 'dryRun' } : {}) };
  // A reminder run is not refused as a whole: each message's hold decides (the rest are skipped, counted as "balance").
  if (input.kind !== 'reminder') await assertBalanceCovers(d, operator, broadcast.estimate);
  if (input.dryRun) {
    return { status: 200, body: { ...summary, samples: sampled.samples.slice(0, SAMPLES_SHOWN).map(({ cost: _cost, ...sample }) => sample) } };
  }
  if (broadcast.estimate.recipients === 0) {
    // Nobody due today is a normal day for a reminder; for a broadcast someone asked for, it is a mistake in the filter.
    if (input.kind === 'reminder') return { status: 200, body: { ...summary, state: 'nothingToSend' } };
    throw invalid('No customer this broadcast could reach matches the filter.', [{ field: 'filter', message: 'matches no reachable customer' }]);
  }
  if (!(await d.broadcasts.create(broadcast))) {
    // The same reminder run, asked for at the same moment by another run: the first one stands.
    return { status: 200, body: summaryOf((await d.broadcasts.get(operator.id, broadcast.id)) ?? broadcast) };
  }
  try {
    if (broadcast.sendAt) {
      const task: BroadcastTask = { type: 'start', operatorId: operator.id, broadcastId: broadcast.id };
      await d.scheduler.once(scheduleName(broadcast.id), new Date(broadcast.sendAt), { queue: 'broadcasts', body: { ...task } });
    } else {
      await d.queue.enqueue('broadcasts', [firstPlanTask(broadcast)]);
    }
  } catch (error) {
    // Not started: it must not look like it will be. Nothing was held or written yet.
    await d.broadcasts.update(operator.id, broadcast.id, { state: 'cancelled', cancelledAt: d.clock.now().toISOString(), stoppedReason: 'Could not be queued; ask for it again.' }, {});
    throw new DomainError('Unavailable', `Broadcast ${broadcast.id} could not be ${broadcast.sendAt ? 'scheduled' : 'queued'} (${error instanceof Error ? error.message : String(error)}); nothing was sent. Try again.`);
  }
  return { status: 202, body: summary };
}

const scheduleName = (broadcastId: string) => `broadcast-${broadcastId}`;

const summaryOf = (broadcast: Broadcast) => ({
  id: broadcast.id,
  state: broadcast.state,
  recipients: broadcast.estimate.recipients,
  segments: broadcast.estimate.segments,
  cost: broadcast.estimate.cost,
  byChannel: broadcast.estimate.byChannel,
  ...(broadcast.estimate.countComplete === false ? { countComplete: false } : {}),
});

/** A prepaid balance must cover the estimate (what is available: balance, credit limit, less what is held). */
async function assertBalanceCovers(d: BroadcastDeps, operator: Operator, estimated: BroadcastEstimate): Promise<void> {
  if (operator.billing !== 'prepaid' || estimated.cost.amount === 0) return;
  const state = await d.billing.balance(operator.id, estimated.cost.currency);
  const available = state.balance + state.creditLimit - state.reserved;
  if (estimated.cost.amount > available) {
    const shortfall = estimated.cost.amount - available;
    throw new PaymentRequired(
      `The prepaid balance cannot cover this broadcast: it is estimated at ${estimated.cost.amount} and ${available} is available, so ${shortfall} more is needed (minor units of ${estimated.cost.currency}). Top up, narrow the filter, or set maxCost.`,
      { amount: shortfall, currency: estimated.cost.currency },
    );
  }
}

export async function getBroadcast(d: Pick<BroadcastDeps, 'broadcasts'>, operator: Operator, id: string, resellerId?: string): Promise<Broadcast> {
  const broadcast = await d.broadcasts.get(operator.id, id);
  // A reseller sees its own broadcasts only; another's is "not found", not "forbidden".
  if (!broadcast || (resellerId !== undefined && broadcast.resellerId !== resellerId)) throw notFound(`Broadcast "${id}"`);
  return broadcast;
}

/** Done: the audience walked, every page expanded, nothing left queued. */
const isComplete = (broadcast: Broadcast, counts: BroadcastCounts) =>
  broadcast.state === 'sending' && broadcast.planDone === true && broadcast.pagesDone >= broadcast.pages && counts.queued <= 0;

export async function broadcastView(d: Pick<BroadcastDeps, 'broadcasts' | 'clock'>, broadcast: Broadcast) {
  const now = d.clock.now();
  const counts = await d.broadcasts.counts(broadcast.operatorId, broadcast.id, now);
  let current = broadcast;
  if (isComplete(broadcast, counts)) {
    const at = now.toISOString();
    current = (await d.broadcasts.update(broadcast.operatorId, broadcast.id, { state: 'completed', finishedAt: at, updatedAt: at }, { states: ['sending'] })) ?? (await d.broadcasts.get(broadcast.operatorId, broadcast.id)) ?? broadcast;
  }
  const { spent, recentSent, ...byStatus } = counts;
  const messages = Object.values(byStatus).reduce((n, v) => n + v, 0);
  const left = counts.sent + counts.delivered + counts.read;
  const settled = messages - counts.queued;
  const walked = current.planDone === true && current.pagesDone >= current.pages;
  const recipients = walked ? messages : Math.max(current.estimate.recipients, messages);
  const end = current.finishedAt ?? current.cancelledAt;
  const seconds = current.startedAt ? Math.max((Date.parse(end ?? now.toISOString()) - Date.parse(current.startedAt)) / 1000, 1) : 0;
  // The planner's bookkeeping (and the maxCost budget taken so far) is not the API's.
  const { planStep: _p, planned: _pl, pages: _pg, pagesDone: _pd, pagesSettled: _ps, messagePrefix: _m, budgetUsed: _b, ...rest } = current as Broadcast & { budgetUsed?: number };
  return {
    ...rest,
    // Pages are debited once all their messages have left: `settled` of `pages` says how far the balance has caught up.
    billing: { pages: current.pages, settled: current.pagesSettled ?? 0 },
    recipients,
    counts: byStatus,
    percentDone: current.state === 'completed' ? 100 : recipients === 0 ? 0 : Math.min(100, Math.floor((settled / recipients) * 1000) / 10),
    ratePerSecond: { now: current.state === 'sending' ? recentSent / 10 : 0, average: seconds > 0 ? Math.round((left / seconds) * 10) / 10 : 0 },
    spent: { amount: spent, currency: current.estimate.cost.currency },
  };
}

export async function listBroadcasts(d: Pick<BroadcastDeps, 'broadcasts' | 'clock'>, operator: Operator, limit: number, cursor?: string, resellerId?: string): Promise<Page<Awaited<ReturnType<typeof broadcastView>>>> {
  const page = await d.broadcasts.list(operator.id, limit, cursor);
  const own = page.items.filter((b) => resellerId === undefined || b.resellerId === resellerId);
  return { items: await Promise.all(own.map((b) => broadcastView(d, b))), ...(page.cursor ? { cursor: page.cursor } : {}) };
}

/**
 * Stops what has not left yet: no page is expanded any more, and a walk over the broadcast's
 * queued messages cancels them and gives their holds back (in the background, a page at a time).
 */
export async function cancelBroadcast(d: BroadcastDeps, operator: Operator, id: string, resellerId?: string) {
  const broadcast = await getBroadcast(d, operator, id, resellerId);
  if (broadcast.state === 'cancelled') return broadcastView(d, broadcast);
  const at = d.clock.now().toISOString();
  const cancelled = await d.broadcasts.update(operator.id, id, { state: 'cancelled', cancelledAt: at, updatedAt: at }, { states: ['scheduled', 'planning', 'sending'] });
  if (!cancelled) throw conflict(`Broadcast ${id} is ${(await d.broadcasts.get(operator.id, id))?.state ?? 'gone'}; only a scheduled or running broadcast can be cancelled.`);
  if (broadcast.state === 'scheduled') await d.scheduler.delete(scheduleName(id));
  else await d.queue.enqueue('broadcasts', [{ type: 'cancel', operatorId: operator.id, broadcastId: id } satisfies BroadcastTask]);
  return broadcastView(d, cancelled);
}
