import { GatewayFault, ProviderRejected, ProviderThrottled } from '../domain/errors.js';
import { gatewayOrder, nextGateway } from '../domain/gateway-order.js';
import type { GatewayTry, Message } from '../domain/records.js';
import type { Deps } from '../deps.js';
import type { SendTask } from '../ports.js';
import { safeReason } from './error-text.js';
import { sendQueue } from '../catalog.js';
import { fallBackToSms, recordStatus } from './fallback.js';
import { defaultGatewayField, gatewayMaxPerSecond, openGateway, providerContext, webhookUrl } from './gateways.js';
import { MAX_TASK_DELAY_SECONDS, sendableContent } from './messages.js';
import { sendThrough } from './provider-send.js';
import { sendAlert } from './alerts.js';
import { logger } from '../logger.js';
import { callsBackPerMessage, receiptDueAt, recordSent, statusCallbackUrl, withStorageRetries } from './record-outcome.js';

type D = Pick<
  Deps,
  'messages' | 'gateways' | 'operators' | 'circuits' | 'gatewayRate' | 'cipher' | 'clock' | 'fetch' | 'webhookBaseUrl' | 'queue' | 'journal' | 'customers' | 'templates' | 'counters' | 'suppressions' | 'billing' | 'alertRoutes' | 'customerBills'
>;

/** Thrown to have SQS deliver the task again later (reported as a batch item failure). */
export class RetryLater extends Error {
  override name = 'RetryLater';
  /**
   * `gaveUp`: the last attempt; the message is failed and the task goes on to the DLQ.
   * `gatewayFault`: the gateway itself cannot send (credentials, balance, blocked sender): alarmed.
   */
  constructor(message: string, readonly gaveUp = false, readonly gatewayFault = false, readonly handedOff = false) {
    super(message);
  }
}

/**
 * The provider accepted the message, but neither storage nor the queue could take the outcome: the
 * claim (the message's, or its send group's) must stay, so the next delivery asks the provider.
 */
export class OutcomeNotRecorded extends Error {
  override name = 'OutcomeNotRecorded';
  constructor(readonly storageError: unknown) {
    super(`The provider accepted the message, but its outcome could not be recorded: ${safeReason(storageError)}`);
  }
}

/** Seconds a message of a send group waits in the worker for its gateway's rate before it leaves the group to wait in the queue. */
const GROUP_RATE_WAITS = 5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A message of a send group that leaves it for a retry waits this long before its single send task runs. */
export const GROUP_RETRY_DELAY_SECONDS = 60;

/** What one delivery did, for metrics; retries are thrown as RetryLater. */
export type DeliveryOutcome =
  | 'sent'
  | 'rejected'
  | 'duplicate'
  | 'deferred'
  | 'throttled'
  | 'outcome-unknown'
  | 'reconciled'
  | 'outcome-queued'
  | 'fallback-checked'
  | 'not-needed'
  // Only for messages of a send group (deliver-group.ts): left the group for a single send task's retry,
  // failed at the last attempt, or handed on as a lost send after the group's worker died.
  | 'retried'
  | 'gave-up'
  | 'lost-in-group';

export interface Attempt {
  /** SQS ApproximateReceiveCount of this delivery: only tells whether this is the task's last delivery. */
  receiveCount: number;
  /** The queue's maxReceiveCount: after this delivery the task goes to the DLQ. */
  maxReceiveCount: number;
  /** Provider calls a message gets at most (counted on the message, which survives restarts). */
  maxAttempts: number;
  /** How long the claim on the message lasts: the worker's timeout. */
  claimMs: number;
  /**
   * Set when the message is sent under its send group's claim (deliver-group.ts), not its own: a
   * retry or a wait hands it to a single send task (which claims it) instead of failing the delivery.
   */
  group?: string;
}

const OUTCOME_UNKNOWN =
  'The send outcome is unknown (the worker stopped during the provider call, and this provider cannot be asked); ' +
  'not retried to avoid a double send. Resend it if it did not arrive.';

/**
 * Sends one queued message at most once. The message's claim (a conditional write) is the
 * idempotency record: a duplicate SQS delivery finds it claimed or already sent and does nothing.
 * Once the provider accepted the message, nothing that fails afterwards leads to another provider
 * call: the outcome is recorded with its own retries, else queued for recording, else left under
 * the claim, which the next delivery reconciles by asking the provider.
 */
export async function deliverMessage(d: D, task: SendTask, attempt: Attempt): Promise<DeliveryOutcome> {
  if (task.accepted) {
    // Only recording an outcome the provider already gave: never a provider call.
    await recordSent(d, task.operatorId, task.messageId, task.accepted);
    return 'sent';
  }
  if (task.fallbackCheck) return checkFallback(d, task, task.fallbackCheck.dueAt);
  const now = d.clock.now();
  const until = new Date(now.getTime() + attempt.claimMs).toISOString();
  const claim = await d.messages.claim(task.operatorId, task.messageId, until, now.toISOString());
  if (claim.ok) return sendClaimed(d, claim.message, attempt);
  switch (claim.reason) {
    case 'not-found':
    case 'not-queued':
    case 'grouped': // its send group's task sends it
      return 'duplicate'; // already sent, failed or gone
    case 'claimed': {
      // Someone holds it (a duplicate delivery, or a worker that died moments ago). Come back when the
      // claim ends, with a fresh task, rather than spend this task's receives and land in the DLQ.
      const waitSeconds = Math.ceil((Date.parse(claim.message!.claimedUntil!) - now.getTime()) / 1000) + 1;
      await d.queue.enqueue(sendQueue(claim.message!), [{ operatorId: task.operatorId, messageId: task.messageId }], { delaySeconds: waitSeconds });
      return 'deferred';
    }
    case 'claim-expired': {
      const taken = await d.messages.takeOverClaim(task.operatorId, task.messageId, claim.message!.claimedUntil!, until, now.toISOString());
      if (!taken) throw new RetryLater(`Message ${task.messageId} is being reconciled by another worker`);
      return reconcileLostSend(d, taken, attempt);
    }
  }
}

/**
 * A worker died holding the claim, perhaps during the provider call. Ask the provider: if it has
 * the message, record what it says; if it never had it, sending now is the first send; if it
 * cannot be asked, fail the message with the reason (a person can resend it).
 */
async function reconcileLostSend(d: D, message: Message, attempt: Attempt): Promise<DeliveryOutcome> {
  const opened = await openGateway(d, message.gatewayId);
  if (!opened?.provider.lookup) {
    await fail(d, message, OUTCOME_UNKNOWN, undefined, undefined, { fallback: false });
    return 'outcome-unknown';
  }
  let answer;
  try {
    answer = await opened.provider.lookup(
      { messageId: message.id, to: message.to, text: message.text, sentAfter: message.claimedAt ?? message.createdAt },
      { credentials: opened.credentials, settings: opened.settings },
      providerContext(d, opened.gateway.id),
    );
  } catch (error) {
    // The claim is kept: releasing it would let the next delivery send without asking first.
    return retryOrGiveUp(d, message, attempt, error, 'asking the provider what became of it', { keepClaim: true });
  }
  if (!answer.found) return sendClaimed(d, message, attempt);
  const now = d.clock.now();
  await recordSent(d, message.operatorId, message.id, {
    providerMessageId: answer.providerMessageId,
    gatewayId: opened.gateway.id,
    at: now.toISOString(),
    receiptDueAt: receiptDueAt(opened.provider, now),
  }, message);
  if (answer.status && answer.status.status !== 'sent') {
    const { status, reason, providerStatus } = answer.status;
    await recordStatus(d, message, { status, at: d.clock.now().toISOString(), reason, providerStatus });
  }
  return 'reconciled';
}

/**
 * Checked when it is about to leave, not only when it was made: a reminder of a bill paid since, or
 * of an expiry the customer renewed, is cancelled; a message held by quiet hours waits for their end.
 */
async function checkBeforeSending(d: D, message: Message, attempt: Attempt): Promise<DeliveryOutcome | undefined> {
  const now = d.clock.now();
  if (message.notBefore && Date.parse(message.notBefore) > now.getTime()) {
    return waitAndGoAgain(d, message, `Quiet hours: waits until ${message.notBefore}`, (Date.parse(message.notBefore) - now.getTime()) / 1000, undefined, attempt);
  }
  let reason: string | undefined;
  if (message.billId && message.broadcastId) {
    const bill = await d.customerBills.get(message.operatorId, message.billId);
    if (bill && bill.status !== 'unpaid') reason = `Not sent: bill ${bill.id} is ${bill.status} now.`;
  }
  if (!reason && message.remindsExpiry && message.customerId) {
    const customer = await d.customers.get(message.operatorId, message.customerId);
    if (customer?.expiresAt?.slice(0, 10) !== message.remindsExpiry) reason = `Not sent: the service no longer expires on ${message.remindsExpiry} (renewed or changed).`;
  }
  if (!reason) return undefined;
  await recordStatus(d, message, { status: 'cancelled', at: now.toISOString(), reason });
  return 'not-needed';
}

/** Sends a message this worker holds: under its own claim, or (attempt.group) under its send group's. */
export async function sendClaimed(d: D, claimed: Message, attempt: Attempt): Promise<DeliveryOutcome> {
  const unneeded = await checkBeforeSending(d, claimed, attempt);
  if (unneeded) return unneeded;
  let message = claimed;
  let accepted: { providerMessageId: string; gatewayId: string; receiptDueAt: string; provider: string; finalNote?: string; pointer?: false };
  // Recorded on the message with the outcome: which gateway was tried and what it said.
  const tried = (outcome: GatewayTry['outcome'], error: unknown): GatewayTry => ({
    gatewayId: message.gatewayId,
    provider: message.provider,
    outcome,
    at: d.clock.now().toISOString(),
    detail: safeReason(error),
  });
  // The failover plan costs reads (operator, gateways, circuits): made only when a send needs it.
  let plan: Promise<Awaited<ReturnType<typeof failoverPlan>>> | undefined;
  const failover = () => (plan ??= failoverPlan(d, message));
  // One read: whether the gateway's circuit is open, and whether the provider slowed it down lately.
  const circuitState = (gatewayId: string) =>
    d.circuits.state([gatewayId], d.clock.now().toISOString()).catch(() => ({ open: new Map<string, string>(), slowed: new Map<string, { maxPerSecond: number }>() }));
  let circuit = { gatewayId: message.gatewayId, ...(await circuitState(message.gatewayId)) };
  const skipTo = circuit.open.has(message.gatewayId) ? (await failover()).skipIfOpen(message.gatewayId) : undefined;
  if (skipTo && attempt.group) {
    // Moving to another gateway takes the message's own claim: a single send task does it.
    return waitAndGoAgain(d, message, `Gateway ${message.gatewayId}'s circuit is open until ${skipTo.openUntil}`, 1, undefined, attempt);
  }
  if (skipTo && message.claimedUntil) {
    // Its gateway is cooling down after repeated faults, and another one is open: go there without calling it.
    const skipped = tried('gateway-fault', new Error(`Skipped: the gateway's circuit is open until ${skipTo.openUntil}`));
    if (await d.messages.failOver(message.operatorId, message.id, message.claimedUntil, skipped, { gatewayId: skipTo.gateway.id, provider: skipTo.gateway.provider })) {
      message = { ...message, gatewayId: skipTo.gateway.id, provider: skipTo.gateway.provider };
    }
  }
  // The rate the current gateway is held to; halved when its provider throttles.
  let currentLimit: number | undefined;
  let rateWaits = 0;
  for (;;) {
    try {
      const opened = await openGateway(d, message.gatewayId);
      if (!opened) throw new ProviderRejected(`Gateway ${message.gatewayId} no longer exists.`);
      if (circuit.gatewayId !== opened.gateway.id) circuit = { gatewayId: opened.gateway.id, ...(await circuitState(opened.gateway.id)) };
      // The gateway's messages per second, all workers together (lowered for a while after the provider throttled us): over it, wait for the next second.
      const slowed = circuit.slowed.get(opened.gateway.id)?.maxPerSecond;
      currentLimit = Math.min(gatewayMaxPerSecond(opened.gateway), slowed ?? Infinity);
      if (!(await d.gatewayRate.take(opened.gateway.id, currentLimit, d.clock.now()))) {
        if (attempt.group !== undefined && rateWaits++ < GROUP_RATE_WAITS) {
          // Under a group's claim the next second is waited for here: leaving the group would cost a write and a claim.
          await sleep(1000 - (Date.now() % 1000) + Math.floor(Math.random() * 50));
          continue;
        }
        const why = slowed !== undefined ? ', lowered after the provider throttled it' : '';
        return waitAndGoAgain(d, message, `Gateway ${opened.gateway.id} is at its limit of ${currentLimit} messages a second${why}`, 1, undefined, attempt);
      }
      const content = await sendableContent(d, message);
      const reply = await sendThrough(
        opened,
        {
          messageId: message.id,
          to: message.to,
          ...content,
          ...(message.channel === 'telegram' ? { telegram: { threadId: message.threadId, replyToProviderMessageId: message.replyToProviderMessageId } } : {}),
          statusCallbackUrl: statusCallbackUrl(webhookUrl(d.webhookBaseUrl, opened.gateway), opened.provider, message.id),
        },
        providerContext(d, opened.gateway.id),
      );
      accepted = {
        // Its receipts name the message itself: no provider-id pointer to write.
        ...(callsBackPerMessage(opened.provider) ? { pointer: false as const } : {}),
        providerMessageId: reply.providerMessageId,
        gatewayId: opened.gateway.id,
        provider: opened.gateway.provider,
        receiptDueAt: receiptDueAt(opened.provider, d.clock.now()),
        // SMTP, Telegram and some SMS gateways never send receipts: the history says `sent` is final.
        ...(opened.provider.receipts === false || opened.provider.sendsReceipts?.(opened.settings) === false
          ? { finalNote: `${opened.provider.displayName} sends no delivery receipts: sent is final.` }
          : {}),
      };
      break;
    } catch (error) {
      if (error instanceof ProviderRejected) {
        await fail(d, message, error.message, error.code, tried('rejected', error));
        return 'rejected';
      }
      if (error instanceof ProviderThrottled) {
        // Slow the gateway down for every worker, then wait: the send never fails for it nor spends an attempt.
        if (currentLimit !== undefined) await d.circuits.recordThrottle(message.gatewayId, currentLimit, d.clock.now().toISOString()).catch(() => undefined);
        return waitAndGoAgain(d, message, safeReason(error), error.retryAfterSeconds ?? THROTTLE_WAIT_SECONDS, tried('unavailable', error), attempt);
      }
      if (error instanceof GatewayFault) {
        // The gateway, not the message: count it against the gateway, and move on to the next one at once.
        const openedUntil = await d.circuits.recordFault(message.gatewayId, d.clock.now().toISOString()).catch(() => undefined);
        if (openedUntil) await alertCircuitOpened(d, message, openedUntil, error);
        const next = (await failover()).next(message.gatewayId);
        if (next && message.claimedUntil) {
          const moved = await withStorageRetries(() =>
            d.messages.failOver(message.operatorId, message.id, message.claimedUntil!, tried('gateway-fault', error), { gatewayId: next.id, provider: next.provider }),
          );
          if (!moved) throw new RetryLater(`Message ${message.id} is no longer held by this worker`);
          message = { ...message, gatewayId: next.id, provider: next.provider };
          continue;
        }
      }
      return retryOrGiveUp(d, message, attempt, error, 'sending', { tried: tried(error instanceof GatewayFault ? 'gateway-fault' : 'unavailable', error) });
    }
  }
  // The provider has it. From here on, no error may lead to another provider call.
  const at = d.clock.now().toISOString();
  try {
    await recordSent(d, message.operatorId, message.id, { ...accepted, at }, message);
    return 'sent';
  } catch (storageError) {
    // Storage keeps failing: hand the outcome to the queue, a separate service, to record later.
    try {
      const task: SendTask = { operatorId: message.operatorId, messageId: message.id, accepted: { ...accepted, at } };
      await d.queue.enqueue(sendQueue(message), [task]);
      return 'outcome-queued';
    } catch {
      // Neither could take it. The claim stays (never released): the next delivery finds it expired and asks the provider.
      throw new OutcomeNotRecorded(storageError);
    }
  }
}

/**
 * Where a send may fail over to: the operator's other enabled gateways of the channel, in order,
 * skipping those whose circuit is open (repeated gateway faults; shared by every worker).
 */
async function failoverPlan(d: D, message: Message) {
  const [operator, gateways] = await Promise.all([d.operators.get(message.operatorId), d.gateways.list(message.operatorId)]);
  const ordered = gatewayOrder(gateways, message.channel, operator?.[defaultGatewayField(message.channel)]);
  const open = await d.circuits.openUntil(ordered.map((g) => g.id), d.clock.now().toISOString()).catch(() => new Map<string, string>());
  const tried = new Set<string>();
  return {
    next(current: string) {
      tried.add(current);
      return nextGateway(ordered, tried, (id) => open.has(id));
    },
    /** When `current`'s circuit is open and another gateway's is not: that one. */
    skipIfOpen(current: string) {
      const openUntil = open.get(current);
      if (!openUntil) return undefined;
      const gateway = nextGateway(ordered, new Set([current]), (id) => open.has(id));
      if (!gateway) return undefined;
      tried.add(current);
      return { gateway, openUntil };
    },
  };
}

/**
 * A gateway's circuit just opened: the team hears it on Telegram, at the purpose the operator chose
 * for system alerts (default `emergency`), when it has a chat for it. Never in the way of the send.
 */
async function alertCircuitOpened(d: D, message: Message, until: string, error: unknown): Promise<void> {
  try {
    const operator = await d.operators.get(message.operatorId);
    if (!operator) return;
    const purpose = operator.systemAlertPurpose ?? 'emergency';
    if (!(await d.alertRoutes.get(operator.id, purpose))) return;
    await sendAlert(d, operator, {
      purpose,
      severity: 'warning',
      text: `Gateway ${message.gatewayId} (${message.provider}) keeps failing and is skipped until ${until}: ${safeReason(error)}`,
    });
  } catch (alertError) {
    logger.warn('Could not send the circuit-open alert', { error: alertError, gatewayId: message.gatewayId });
  }
}

/** Seconds a throttled send waits before it goes again, when the provider does not say. */
const THROTTLE_WAIT_SECONDS = 5;

/**
 * Too fast for the gateway (its own limit, or the provider throttled us): the message goes back,
 * its attempt given back, with a fresh task that waits. It never fails for that, nor spends the
 * queue's receives.
 */
async function waitAndGoAgain(d: D, message: Message, reason: string, waitSeconds: number, tried?: GatewayTry, attempt?: Attempt): Promise<DeliveryOutcome> {
  const delaySeconds = Math.min(Math.max(Math.ceil(waitSeconds), 1), 900);
  await goAgainAlone(d, message, reason, delaySeconds, { tried, spent: false, fromGroup: attempt?.group !== undefined });
  return 'throttled';
}

/**
 * Gives the message's claim back (or takes it out of its send group) and queues a single send task
 * for it after `delaySeconds`: the next try claims it as any message.
 */
export async function goAgainAlone(
  d: Pick<D, 'messages' | 'queue' | 'clock'>,
  message: Message,
  reason: string,
  delaySeconds: number,
  options: { tried?: GatewayTry; spent?: boolean; fromGroup?: boolean },
): Promise<void> {
  await withStorageRetries(() => d.messages.release(message.operatorId, message.id, reason, d.clock.now().toISOString(), options.tried, { spent: options.spent, fromGroup: options.fromGroup }));
  await d.queue.enqueue(sendQueue(message), [{ operatorId: message.operatorId, messageId: message.id }], { delaySeconds });
}

/** A temporary failure: the message goes back for a retry, or, at its last attempt, is failed. */
async function retryOrGiveUp(
  d: D,
  message: Message,
  attempt: Attempt,
  error: unknown,
  doing: string,
  options: { keepClaim?: boolean; tried?: GatewayTry } = {},
): Promise<never> {
  const reason = safeReason(error);
  // Under a group's claim, this attempt is not on the message yet.
  const attempts = message.attempts + (attempt.group !== undefined ? 1 : 0);
  if (attempts >= attempt.maxAttempts || attempt.receiveCount >= attempt.maxReceiveCount) {
    const unknown = options.keepClaim ? '. The send outcome is unknown: resend it if it did not arrive.' : '';
    const context = doing === 'sending' ? '' : ` (${doing})`;
    await fail(d, message, `Gave up after ${attempts} attempts${context}: ${reason}${unknown}`, undefined, options.tried, { fallback: !options.keepClaim });
    throw new RetryLater(reason, true, error instanceof GatewayFault); // also lands in the DLQ, for the operator's alarm
  }
  if (attempt.group !== undefined) {
    // Out of the group into a single send task, which retries it (and fails it over at once after a gateway fault).
    await goAgainAlone(d, message, reason, error instanceof GatewayFault ? 1 : GROUP_RETRY_DELAY_SECONDS, { tried: options.tried, fromGroup: true });
    throw new RetryLater(reason, false, error instanceof GatewayFault, true);
  }
  if (!options.keepClaim) await withStorageRetries(() => d.messages.release(message.operatorId, message.id, reason, d.clock.now().toISOString(), options.tried));
  // A gateway fault is retried like a temporary error (failover to the next gateway comes with priorities), and alarmed.
  throw new RetryLater(reason, false, error instanceof GatewayFault);
}

/** `fallback: false`: the outcome is unknown, so an SMS might duplicate a WhatsApp message that arrived. */
async function fail(d: D, message: Message, reason: string, providerStatus?: string, tried?: GatewayTry, options: { fallback?: boolean } = {}) {
  await recordStatus(d, message, { status: 'failed', at: d.clock.now().toISOString(), reason: safeReason(reason), providerStatus }, { tried }, options);
}

/**
 * The operator's fallbackAfterSeconds: a WhatsApp message not delivered (nor read, nor failed) by
 * `dueAt` falls back to SMS. A check due later than a task can wait goes round again.
 */
async function checkFallback(d: D, task: SendTask, dueAt: string): Promise<DeliveryOutcome> {
  const waitMs = Date.parse(dueAt) - d.clock.now().getTime();
  if (waitMs > 1000) {
    const message = await d.messages.get(task.operatorId, task.messageId);
    if (!message || (message.status !== 'queued' && message.status !== 'sent')) return 'fallback-checked';
    await d.queue.enqueue(sendQueue(message), [task], { delaySeconds: Math.min(Math.ceil(waitMs / 1000), MAX_TASK_DELAY_SECONDS) });
    return 'fallback-checked';
  }
  await fallBackToSms(d, task.operatorId, task.messageId, ['queued', 'sent']);
  return 'fallback-checked';
}
