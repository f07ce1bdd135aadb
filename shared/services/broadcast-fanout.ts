/**
 * A broadcast in the background, as many small retryable steps on the `broadcasts` queue:
 *
 *   start   a scheduled broadcast begins (its one-time schedule fired)
 *   plan    reads one page of the audience with a Query, queues that page's expand step and the
 *           next plan step; no step walks the whole audience
 *   expand  renders its page, holds the page's cost (one hold), writes the messages with
 *           BatchWriteItem and queues their sends with SendMessageBatch, under a claim on the page
 *   settle  once every message of the page has left (or failed), debits what left and gives the
 *           rest of the page's hold back (services/page-billing.ts); until then it comes back later,
 *           and puts back on the send queue a message whose send task was lost
 *   cancel  cancels a page of the messages that have not left yet, then queues the next page
 *
 * Exactly once per recipient: a message id derives from (broadcast, recipient); a page is claimed
 * before it is written and marked done after; a worker that died halfway leaves an expired claim,
 * and whoever takes it over writes only the ids that do not exist yet.
 */
import { randomBytes } from 'node:crypto';
import { sendQueue } from '../catalog.js';
import { broadcastMessageId, messagePrefixAt } from '../domain/broadcast-ids.js';
import { chunks } from '../domain/chunks.js';
import { billVariables } from '../domain/broadcast-variables.js';
import { DomainError } from '../domain/errors.js';
import type { Broadcast, Customer, CustomerBill, Message, Operator, Template } from '../domain/records.js';
import type { Deps } from '../deps.js';
import { logger } from '../logger.js';
import type { AudienceCursor, AudienceRow } from '../ports.js';
import { audienceQuery, customersOfRows } from './broadcast-audience.js';
import { costOf, pricesFor } from './billing.js';
import { addCharges, holdPage, pageCharges, settlePage } from './page-billing.js';
import type { GroupCharge } from '../ports.js';
import { pageHoldId, pageOfHold } from '../domain/broadcast-ids.js';
import { STRANDED_AFTER_MS } from './reconcile.js';
import { buildMessage, builtInVariables, MAX_TASK_DELAY_SECONDS, renderTemplateContent, textEmail, type RenderedContent } from './messages.js';
import { quietUntil } from '../domain/quiet-hours.js';
import { makePaymentLink } from './payment-links.js';
import { takeDailyMessages } from './send-limits.js';
import { getTemplate } from './templates.js';
import { chaseReceipts, queueFirstReceiptsLook, type ReceiptsTask } from './broadcast-receipts.js';

export type BroadcastTask =
  | { type: 'start'; operatorId: string; broadcastId: string }
  | { type: 'plan'; operatorId: string; broadcastId: string; step: number; cursor: AudienceCursor }
  | { type: 'expand'; operatorId: string; broadcastId: string; page: number; rows: AudienceRow[] }
  /** `messageIds`: the page's messages not yet seen leave (or fail); `charges`: what those seen so far cost. */
  | { type: 'settle'; operatorId: string; broadcastId: string; page: number; messageIds: string[]; charges?: GroupCharge[] }
  | { type: 'cancel'; operatorId: string; broadcastId: string; cursor?: string }
  | ReceiptsTask;

export type FanoutDeps = Pick<
  Deps,
  | 'broadcasts'
  | 'audience'
  | 'operators'
  | 'customers'
  | 'templates'
  | 'gateways'
  | 'messages'
  | 'sendGroups'
  | 'counters'
  | 'queue'
  | 'clock'
  | 'cipher'
  | 'suppressions'
  | 'billing'
  | 'alertRoutes'
  | 'paymentLinks'
  | 'paymentLinkKey'
  | 'paymentLinkBaseUrl'
  // Asking providers about receipts that did not come (broadcast-receipts.ts).
  | 'fetch'
  | 'journal'
>;

/** Recipients per page (one expand task each): small enough for one worker run, big enough for batch calls. */
export const PAGE_SIZE = 100;
/**
 * Pages a plan step reads with one Query. The walk is a chain of steps, each queued by the one before,
 * so one page a step held the expand workers to one page per queue round trip; ten keep them busy.
 * Page numbers are `step * PAGES_PER_PLAN_STEP + i`: above every page of an earlier step (also of a
 * broadcast walked one page a step before this), so a page's claim, hold and debit stay its own.
 */
export const PAGES_PER_PLAN_STEP = 10;
/**
 * Messages a broadcast may have written and not yet sent before its walk waits: pages written far
 * ahead of the senders only hold balance early, make a cancel longer and a queue deeper.
 */
export const PLAN_AHEAD_MAX = 5_000;
/** How soon a walk that waited looks again. */
const PLAN_AHEAD_WAIT_SECONDS = 5;
/** Messages a cancel step cancels. */
const CANCEL_PAGE = 100;
/** How long an expand claim lasts: longer than the worker's timeout, so a live worker never loses it. */
const EXPAND_CLAIM_MS = 120_000;
/** A page's settle step first looks this long after its sends were queued, then this often until every message has left. */
const SETTLE_FIRST_SECONDS = 10;
const SETTLE_AGAIN_SECONDS = 60;
/** Payment links stay valid this long. */
export const PAYMENT_LINK_DAYS = 30;

/** Payment-link broadcasts, and due-date reminders when the operator has a payment page, give each bill a personal link. */
export const carriesPaymentLinks = (broadcast: Pick<Broadcast, 'kind' | 'filter'>, operator: Pick<Operator, 'paymentUrlTemplate'>) =>
  broadcast.kind === 'payment_link' || (broadcast.kind === 'reminder' && broadcast.filter.dueOn !== undefined && operator.paymentUrlTemplate !== undefined);

/** A plan step that came before its predecessor was recorded waits this long. */
const STEP_RETRY_SECONDS = 2;
/** Messages sent under one claim (a send task's, deliver-group.ts): an SQS batch's worth. */
const SEND_GROUP_SIZE = 10;

export async function runBroadcastTask(d: FanoutDeps, task: BroadcastTask): Promise<string> {
  switch (task.type) {
    case 'start':
      return startScheduled(d, task.operatorId, task.broadcastId);
    case 'plan':
      return planStep(d, task);
    case 'expand':
      return expandPage(d, task);
    case 'settle':
      return settleStep(d, task);
    case 'cancel':
      return cancelStep(d, task);
    case 'receipts':
      return chaseReceipts(d, task);
  }
}

/** A broadcast's first plan step (the API queues it, or its schedule fires `start`). */
export const firstPlanTask = (broadcast: Broadcast): BroadcastTask => ({ type: 'plan', operatorId: broadcast.operatorId, broadcastId: broadcast.id, step: 0, cursor: { part: 0 } });

async function startScheduled(d: FanoutDeps, operatorId: string, broadcastId: string): Promise<string> {
  const now = d.clock.now();
  const started = await d.broadcasts.update(operatorId, broadcastId, { state: 'planning', startedAt: now.toISOString(), messagePrefix: messagePrefixAt(now), updatedAt: now.toISOString() }, { states: ['scheduled'] });
  const broadcast = started ?? (await d.broadcasts.get(operatorId, broadcastId));
  // Not scheduled any more: cancelled, or a repeated fire of a schedule that already started it.
  if (!broadcast || broadcast.state !== 'planning' || broadcast.planStep !== 0) return 'not-scheduled';
  await d.queue.enqueue('broadcasts', [firstPlanTask(broadcast)]);
  return 'started';
}

async function planStep(d: FanoutDeps, task: Extract<BroadcastTask, { type: 'plan' }>): Promise<string> {
  const broadcast = await d.broadcasts.get(task.operatorId, task.broadcastId);
  if (!broadcast || broadcast.state === 'cancelled' || broadcast.state === 'completed' || broadcast.state === 'scheduled') return 'stopped';
  // Each step is recorded once: a repeat of a recorded step does nothing, a step before its predecessor waits.
  if (broadcast.planStep > task.step) return 'duplicate';
  if (broadcast.planStep < task.step) {
    // Queued by its predecessor a moment before that step was recorded: come back shortly (not after the visibility timeout).
    await d.queue.enqueue('broadcasts', [task], { delaySeconds: STEP_RETRY_SECONDS });
    return 'waiting';
  }
  const operator = await d.operators.get(task.operatorId);
  if (!operator) return 'stopped';
  // Far enough ahead of the senders: the same step again shortly (its counters read, nothing else).
  if (task.step > 0 && (await d.broadcasts.counts(operator.id, broadcast.id, d.clock.now())).queued > PLAN_AHEAD_MAX) {
    await d.queue.enqueue('broadcasts', [task], { delaySeconds: PLAN_AHEAD_WAIT_SECONDS });
    return 'ahead';
  }
  const { rows, next } = await d.audience.page(operator.id, audienceQuery(broadcast, operator, d.clock.now()), task.cursor, PAGE_SIZE * PAGES_PER_PLAN_STEP);
  const pages = chunks(rows, PAGE_SIZE);
  // The next step first: the walk goes on while this step's pages are expanded.
  const tasks: BroadcastTask[] = next ? [{ type: 'plan', operatorId: operator.id, broadcastId: broadcast.id, step: task.step + 1, cursor: next }] : [];
  pages.forEach((pageRows, i) => tasks.push({ type: 'expand', operatorId: operator.id, broadcastId: broadcast.id, page: task.step * PAGES_PER_PLAN_STEP + i, rows: pageRows }));
  if (tasks.length > 0) await d.queue.enqueue('broadcasts', tasks);
  const at = d.clock.now().toISOString();
  await d.broadcasts.update(
    operator.id,
    broadcast.id,
    { planStep: task.step + 1, state: 'sending', updatedAt: at, ...(next ? { planCursor: next } : { planDone: true }) },
    { states: ['planning', 'sending'], planStep: task.step },
    { planned: rows.length, pages: pages.length },
  );
  return next ? 'planned' : 'planned-last';
}

interface Recipient {
  customer: Customer;
  bill?: CustomerBill;
}

/** The page's recipients: customers as read, or the customers of the bills read (filtered like customers), once each. */
async function recipientsOf(d: FanoutDeps, operator: Operator, broadcast: Broadcast, rows: AudienceRow[]): Promise<{ recipients: Recipient[]; skipped: Record<string, number> }> {
  const skipped: Record<string, number> = {};
  const skip = (reason: string) => (skipped[reason] = (skipped[reason] ?? 0) + 1);
  const read = await customersOfRows(d, operator.id, broadcast, rows);
  if (read.gone > 0) skipped.customerGone = read.gone;
  let recipients: Recipient[] = read.recipients;
  // One message per customer: with several bills on a page, the first (the earliest due).
  const seen = new Set<string>();
  recipients = recipients.filter((r) => {
    if (seen.has(r.customer.id)) {
      skip('sameCustomer');
      return false;
    }
    seen.add(r.customer.id);
    return true;
  });
  return { recipients, skipped };
}

/** Why a recipient was not messaged, as a counter name. */
function skipReason(error: DomainError): string {
  const text = error.message;
  if (/suppression/i.test(text)) return 'suppressed';
  if (/gateway/i.test(text)) return 'noGateway';
  if (/destination|countr|mobile number|not a mobile/i.test(text)) return 'destination';
  if (/segments|too long/i.test(text)) return 'tooLong';
  if (/template|variable|parameter/i.test(text)) return 'template';
  return 'noAddress';
}

export async function renderForRecipient(
  broadcast: Broadcast,
  operator: Operator,
  template: Template | undefined,
  recipient: Recipient,
  paymentLink: string | undefined,
): Promise<RenderedContent> {
  const variables = { ...billVariables(recipient.bill, paymentLink), ...builtInVariables(operator, recipient.customer) };
  if (template) return renderTemplateContent(template, variables);
  // A plain text broadcast is still a template of the same variables ({{customer.name}}, {{paymentLink}}).
  const asTemplate: Template = { id: 'text', name: 'text', channel: 'sms', body: broadcast.text!, variables: [], createdAt: '', updatedAt: '' };
  const content = renderTemplateContent(asTemplate, variables);
  if (broadcast.subject !== undefined) content.email = textEmail(broadcast.subject, content.text);
  return content;
}

async function expandPage(d: FanoutDeps, task: Extract<BroadcastTask, { type: 'expand' }>): Promise<string> {
  const broadcast = await d.broadcasts.get(task.operatorId, task.broadcastId);
  if (!broadcast || broadcast.state === 'cancelled' || !broadcast.messagePrefix) return 'stopped';
  const operator = await d.operators.get(task.operatorId);
  if (!operator) return 'stopped';
  const now = d.clock.now();
  const claim = await d.broadcasts.claimPage(operator.id, broadcast.id, task.page, new Date(now.getTime() + EXPAND_CLAIM_MS).toISOString(), now.toISOString());
  if (claim === 'done') return 'duplicate';
  if (claim === 'busy') {
    // Another worker has it (or had it and may have died): come back when its claim ends.
    await d.queue.enqueue('broadcasts', [task], { delaySeconds: Math.ceil(EXPAND_CLAIM_MS / 1000) + 1 });
    return 'busy';
  }

  const { recipients, skipped } = await recipientsOf(d, operator, broadcast, task.rows);
  const skip = (reason: string) => (skipped[reason] = (skipped[reason] ?? 0) + 1);
  const [gateways, template, prices] = await Promise.all([
    d.gateways.list(operator.id),
    broadcast.templateId ? getTemplate(d, operator, broadcast.templateId) : Promise.resolve(undefined),
    pricesFor(d, operator.id),
  ]);
  const prefix = { id: broadcast.id, messagePrefix: broadcast.messagePrefix };
  const linkKey = carriesPaymentLinks(broadcast, operator) ? await d.paymentLinkKey() : undefined;
  // Reminders and marketing wait out the operator's quiet hours (transactional broadcasts such as outage notices do not).
  const quietEnd = (broadcast.kind === 'reminder' || broadcast.category === 'marketing') && operator.quietHours ? quietUntil(now, operator.timezone, operator.quietHours) : undefined;
  const built: Array<{ message: Message; link?: Awaited<ReturnType<typeof makePaymentLink>>['link'] }> = [];
  for (const recipient of recipients) {
    const id = broadcastMessageId(broadcast.messagePrefix, broadcast.id, recipient.customer.id);
    try {
      let link: Awaited<ReturnType<typeof makePaymentLink>> | undefined;
      if (linkKey && recipient.bill) {
        link = await makePaymentLink(d, {
          operatorId: operator.id,
          customerId: recipient.customer.id,
          billId: recipient.bill.id,
          broadcastId: broadcast.id,
          messageId: id,
          // The channel is known once routed; the link's binding does not include it.
          channel: broadcast.channel === 'auto' ? 'sms' : broadcast.channel,
          expiresAt: new Date(now.getTime() + PAYMENT_LINK_DAYS * 86_400_000),
          createdAt: now.toISOString(),
        });
      }
      const content = await renderForRecipient(broadcast, operator, template, recipient, link?.url);
      const message = await buildMessage(
        d,
        operator,
        {
          id,
          channel: broadcast.channel,
          customer: recipient.customer,
          category: broadcast.category,
          ...(broadcast.resellerId ? { resellerId: broadcast.resellerId } : {}),
          content,
          templateId: broadcast.templateId,
          lane: 'bulk',
          broadcast: prefix,
          ...(recipient.bill ? { billId: recipient.bill.id } : {}),
          ...(link ? { paymentLinkId: link.link.id } : {}),
          fields: { recipient: 'filter', content: broadcast.templateId ? 'templateId' : 'text' },
        },
        gateways,
      );
      message.cost = { amount: costOf(prices, message), currency: prices.currency };
      if (broadcast.filter.expiresOn !== undefined) message.remindsExpiry = broadcast.filter.expiresOn;
      if (quietEnd) message.notBefore = quietEnd.toISOString();
      if (broadcast.resellerId) message.resellerId = broadcast.resellerId;
      built.push({ message, ...(link ? { link: { ...link.link, channel: message.channel } } : {}) });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      skip(skipReason(error));
    }
  }

  // After a worker died on this page: what it wrote stays (its sends are queued again below, in the
  // send groups they were written with), the rest is written now.
  const written = claim === 'taken-over' ? await d.messages.getMany(built.map((b) => ({ operatorId: operator.id, messageId: b.message.id }))) : [];
  const existing = new Set(written.map((m) => m.id));
  let fresh = built.filter((b) => !existing.has(b.message.id));

  // The operator's messages per day: the page takes its count at once (once: the page is the claim).
  if (fresh.length > 0) {
    const taken = await takeDailyMessages(d, operator, fresh.length, `broadcast:${broadcast.id}:${task.page}`);
    if (!taken) {
      fresh.forEach(() => skip('messagesPerDay'));
      fresh = [];
    }
  }
  // maxCost: the page's cost is taken from the broadcast's budget, message by message once the page no longer fits.
  if (broadcast.maxCost !== undefined && fresh.length > 0) {
    const total = fresh.reduce((sum, b) => sum + (b.message.cost?.amount ?? 0), 0);
    if (!(await d.broadcasts.takeBudget(operator.id, broadcast.id, total, broadcast.maxCost))) {
      const within: typeof fresh = [];
      for (const b of fresh) {
        if (await d.broadcasts.takeBudget(operator.id, broadcast.id, b.message.cost?.amount ?? 0, broadcast.maxCost)) within.push(b);
        else skip('maxCost');
      }
      fresh = within;
      if (within.length < built.length) await d.broadcasts.update(operator.id, broadcast.id, { stoppedReason: 'maxCost' }, {});
    }
  }
  // The page's cost is held at once (once per page) before its messages are stored: what a prepaid
  // balance cannot cover is skipped from the end of the page.
  const { holdId, held } = await holdPage(d, operator, broadcast.id, task.page, fresh.map((b) => b.message), broadcast.resellerId);
  fresh.slice(held).forEach(() => skip('balance'));
  fresh = fresh.slice(0, held);
  for (const b of fresh) b.message.holdId = holdId;
  // Random, not derived from the page: a page written again after its worker died must not reuse a group name.
  assignSendGroups(fresh.map((b) => b.message), randomBytes(9).toString('base64url'));

  await d.paymentLinks.putMany(fresh.flatMap((b) => (b.link ? [b.link] : [])));
  // The broadcast's counters follow from the table's stream: each INSERT counts one queued.
  await d.messages.createMany(fresh.map((b) => b.message));

  // Cancelled while this page was being written: its messages are cancelled here (the cancel walk may have passed them).
  const current = await d.broadcasts.get(operator.id, broadcast.id);
  const toSend = [...fresh.map((b) => b.message), ...written];
  if (current?.state === 'cancelled') {
    await cancelMessages(d, operator.id, toSend);
  } else {
    // SQS holds a task back 15 minutes at most: a longer wait goes round again in the sender (checkBeforeSending).
    const delaySeconds = quietEnd ? Math.min(MAX_TASK_DELAY_SECONDS, Math.ceil((quietEnd.getTime() - now.getTime()) / 1000)) : 0;
    await enqueueSends(d, toSend, delaySeconds);
  }
  // The page is debited once its messages have left (or failed, or were cancelled).
  if (toSend.length > 0) {
    const settle: BroadcastTask = { type: 'settle', operatorId: operator.id, broadcastId: broadcast.id, page: task.page, messageIds: toSend.map((m) => m.id) };
    // A second apart for the pages of one plan step: their debits all write the operator's balance item.
    const firstLook = SETTLE_FIRST_SECONDS + (task.page % PAGES_PER_PLAN_STEP);
    const waitSeconds = quietEnd ? Math.ceil((quietEnd.getTime() - now.getTime()) / 1000) + firstLook : firstLook;
    await d.queue.enqueue('broadcasts', [settle], { delaySeconds: Math.min(MAX_TASK_DELAY_SECONDS, waitSeconds) });
  }
  await d.broadcasts.finishPage(operator.id, broadcast.id, task.page, d.clock.now().toISOString());
  // A page that wrote no message has nothing to debit: it counts as settled now. Its messages (those
  // a dead worker wrote too) are added with it: they read as queued until the stream has counted them.
  await d.broadcasts.update(
    operator.id,
    broadcast.id,
    { updatedAt: d.clock.now().toISOString() },
    {},
    { pagesDone: 1, messagesWritten: toSend.length, skipped, ...(toSend.length === 0 ? { pagesSettled: 1 } : {}) },
  );
  return 'expanded';
}

/**
 * Puts the page's messages in send groups of up to ten of one send queue, each sent under one claim
 * (deliver-group.ts). `prefix` is new for each writing of the page, so a message written by a worker
 * that died keeps its group, and the page's new messages never share one with it.
 */
function assignSendGroups(messages: Message[], prefix: string): void {
  const byQueue = new Map<string, Message[]>();
  for (const m of messages) {
    const members = byQueue.get(sendQueue(m)) ?? [];
    members.push(m);
    byQueue.set(sendQueue(m), members);
  }
  const groups = [...byQueue.values()].flatMap((members) => chunks(members, SEND_GROUP_SIZE));
  groups.forEach((group, n) => group.forEach((m) => (m.sendGroup = `${prefix}.${n}`)));
}

/**
 * Queues the sends of `messages`, each on its own send queue (channel and lane), in batch calls: one
 * task per send group (its members among `messages`), one per message outside a group.
 */
async function enqueueSends(d: Pick<FanoutDeps, 'queue'>, messages: Message[], delaySeconds = 0): Promise<void> {
  for (const queue of new Set(messages.map((m) => sendQueue(m)))) {
    const onQueue = messages.filter((m) => sendQueue(m) === queue);
    const groups = new Map<string, string[]>();
    for (const m of onQueue) {
      if (!m.sendGroup) continue;
      const ids = groups.get(m.sendGroup) ?? [];
      ids.push(m.id);
      groups.set(m.sendGroup, ids);
    }
    const tasks: object[] = [
      ...[...groups].map(([group, messageIds]) => ({ operatorId: onQueue[0]!.operatorId, group, messageIds })),
      ...onQueue.filter((m) => !m.sendGroup).map((m) => ({ operatorId: m.operatorId, messageId: m.id })),
    ];
    await d.queue.enqueue(queue, tasks, delaySeconds > 0 ? { delaySeconds } : undefined);
  }
}

/**
 * Cancels these queued messages (no worker holds them); their page's settlement gives their cost back. A message in a send group is cancelled only once its group is closed
 * (marked done in one conditional write, so no worker claims it after): a group a worker holds is
 * leaving now, or is reconciled if that worker died, and its messages are left to it.
 */
async function cancelMessages(d: FanoutDeps, operatorId: string, messages: Array<Pick<Message, 'id' | 'sendGroup'>>): Promise<number> {
  const at = d.clock.now().toISOString();
  const groups = [...new Set(messages.flatMap((m) => (m.sendGroup ? [m.sendGroup] : [])))];
  const held = new Set<string>();
  for (const group of groups) if ((await d.sendGroups.close(operatorId, group, at)) === 'held') held.add(group);
  const ids = messages.filter((m) => !(m.sendGroup && held.has(m.sendGroup))).map((m) => m.id);
  let cancelled = 0;
  for (const id of ids) {
    const changed = await d.messages.transition(operatorId, id, { status: 'cancelled', at, reason: 'The broadcast was cancelled before this message left.' }, { unclaimedOnly: true });
    if (changed) cancelled++;
  }
  return cancelled;
}

/**
 * Debits the page once every message of it has left us (or failed, or was cancelled). Until then it
 * comes back later with what it has seen so far, and reads only the messages still on their way
 * (eventually consistent: a stale read only makes it wait). A message queued long ago that no worker
 * holds lost its send task (a DLQ, a purge): its send is queued again (the sender's claim makes a
 * second task harmless).
 */
async function settleStep(d: FanoutDeps, task: Extract<BroadcastTask, { type: 'settle' }>): Promise<string> {
  const holdId = pageHoldId(task.broadcastId, task.page);
  const hold = await d.billing.getHold(task.operatorId, holdId);
  if (!hold || hold.status !== 'open') return 'duplicate';
  const read = await d.messages.getMany(task.messageIds.map((messageId) => ({ operatorId: task.operatorId, messageId })), { consistent: false });
  const now = d.clock.now();
  const seen = new Map(read.map((m) => [m.id, m]));
  // Written before this step was queued: one not found yet is a stale read, and waits like a queued one.
  const waitingIds = task.messageIds.filter((id) => seen.get(id)?.status === 'queued' || !seen.has(id));
  const charges = addCharges(task.charges ?? [], pageCharges(read.filter((m) => m.status !== 'queued')));
  if (waitingIds.length > 0) {
    const strandedBefore = new Date(now.getTime() - STRANDED_AFTER_MS).toISOString();
    const stranded = waitingIds.flatMap((id) => {
      const m = seen.get(id);
      return m && m.updatedAt < strandedBefore && (!m.claimedUntil || m.claimedUntil < now.toISOString()) && !(m.notBefore && m.notBefore > now.toISOString()) ? [m] : [];
    });
    await enqueueSends(d, stranded);
    await d.queue.enqueue('broadcasts', [{ ...task, messageIds: waitingIds, charges }], { delaySeconds: SETTLE_AGAIN_SECONDS });
    return stranded.length > 0 ? 'requeued' : 'waiting';
  }
  const broadcast = await d.broadcasts.get(task.operatorId, task.broadcastId);
  const outcome = await settlePage(d, task.operatorId, holdId, charges, `Broadcast ${broadcast?.name ?? task.broadcastId}, page ${task.page + 1}`);
  if (outcome === 'settled') {
    const after = await d.broadcasts.update(task.operatorId, task.broadcastId, { updatedAt: now.toISOString() }, {}, { pagesSettled: 1 });
    // The last page: the broadcast's messages whose receipt does not come are asked about (broadcast-receipts.ts).
    if (after?.planDone && (after.pagesSettled ?? 0) >= after.pages) {
      await queueFirstReceiptsLook(d, task.operatorId, task.broadcastId, read.map((m) => m.gatewayId), now);
    }
  }
  return outcome;
}

async function cancelStep(d: FanoutDeps, task: Extract<BroadcastTask, { type: 'cancel' }>): Promise<string> {
  const broadcast = await d.broadcasts.get(task.operatorId, task.broadcastId);
  if (!broadcast || broadcast.state !== 'cancelled' || !broadcast.messagePrefix) return 'nothing';
  const page = await d.messages.list(task.operatorId, { broadcast: { id: broadcast.id, messagePrefix: broadcast.messagePrefix }, status: 'queued' }, CANCEL_PAGE, task.cursor);
  const cancelled = await cancelMessages(d, task.operatorId, page.items);
  if (page.cursor) await d.queue.enqueue('broadcasts', [{ type: 'cancel', operatorId: task.operatorId, broadcastId: broadcast.id, cursor: page.cursor }]);
  logger.info('Cancelled a page of a broadcast', { broadcastId: broadcast.id, cancelled });
  return 'cancelled';
}

/**
 * Puts a running broadcast's lost tasks back (the local SQS server keeps its queues in memory, so a
 * restart of `npm start` loses them): the sends of its messages still queued, the settle step of
 * each page whose hold is still open, and the plan step it had reached (from the cursor kept with
 * it). Reads the broadcast's messages by their id prefix (a Query, no index). A duplicate task is
 * harmless: the send group's claim, the hold's condition and the recorded plan step make each
 * happen once. An expand step lost before it ran is not recovered (its rows were only in the task).
 */
export async function recoverBroadcastTasks(d: FanoutDeps, broadcast: Broadcast): Promise<{ sends: number; settles: number; plans: number }> {
  // Finished and every written page debited: nothing can be in flight (so start-up does not grow with the history).
  const settled = (broadcast.state === 'completed' || broadcast.state === 'cancelled') && (broadcast.pagesSettled ?? 0) >= broadcast.pagesDone;
  if (!broadcast.messagePrefix || broadcast.state === 'scheduled' || settled) return { sends: 0, settles: 0, plans: 0 };
  // The walk of the audience goes on from the step it had reached (a repeat of a recorded step does nothing).
  let plans = 0;
  const planFrom = broadcast.planStep === 0 ? { part: 0 } : broadcast.planCursor;
  if ((broadcast.state === 'planning' || broadcast.state === 'sending') && !broadcast.planDone && planFrom) {
    await d.queue.enqueue('broadcasts', [{ type: 'plan', operatorId: broadcast.operatorId, broadcastId: broadcast.id, step: broadcast.planStep, cursor: planFrom }]);
    plans = 1;
  }
  const byPage = new Map<string, string[]>();
  const queued: Message[] = [];
  let cursor: string | undefined;
  do {
    const page = await d.messages.list(broadcast.operatorId, { broadcast: { id: broadcast.id, messagePrefix: broadcast.messagePrefix } }, 100, cursor);
    for (const message of page.items) {
      if (message.status === 'queued' && broadcast.state !== 'cancelled') queued.push(message);
      if (message.holdId) byPage.set(message.holdId, [...(byPage.get(message.holdId) ?? []), message.id]);
    }
    cursor = page.cursor;
  } while (cursor);
  await enqueueSends(d, queued);
  let settles = 0;
  for (const [holdId, messageIds] of byPage) {
    const hold = await d.billing.getHold(broadcast.operatorId, holdId);
    const page = pageOfHold(holdId);
    if (hold?.status !== 'open' || page === undefined) continue;
    await d.queue.enqueue('broadcasts', [{ type: 'settle', operatorId: broadcast.operatorId, broadcastId: broadcast.id, page, messageIds }]);
    settles++;
  }
  return { sends: queued.length, settles, plans };
}

/** Every operator's broadcasts that may have tasks in flight: their lost tasks put back (local start-up). */
export async function recoverAllBroadcastTasks(d: FanoutDeps): Promise<{ sends: number; settles: number; plans: number }> {
  const total = { sends: 0, settles: 0, plans: 0 };
  let operators: string | undefined;
  do {
    const page = await d.operators.list(100, operators);
    for (const operator of page.items) {
      let cursor: string | undefined;
      do {
        const broadcasts = await d.broadcasts.list(operator.id, 50, cursor);
        for (const broadcast of broadcasts.items) {
          const recovered = await recoverBroadcastTasks(d, broadcast);
          total.sends += recovered.sends;
          total.settles += recovered.settles;
          total.plans += recovered.plans;
        }
        cursor = broadcasts.cursor;
      } while (cursor);
    }
    operators = page.cursor;
  } while (operators);
  return total;
}
