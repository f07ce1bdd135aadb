/**
 * Sends a broadcast's messages up to ten under one claim, their send group's, instead of a claim
 * write on each: a broadcast message is written at create, `sent` and its receipt, and its group
 * adds a tenth of a write.
 *
 * The group's claim does what a message's own claim does in deliver-message.ts:
 * - A duplicate task finds the group held (it comes back when the claim ends) or done (nothing).
 * - The messages are read strongly consistent, and only those still queued, still in this group and
 *   claimed by no one are sent, all at once (as a worker batch sends ten single tasks).
 * - A message that must retry or wait leaves the group (one write, `release` with `fromGroup`) for a
 *   single send task, which claims it as any other message; the single path never claims a message
 *   still in a group.
 * - A worker that dies holding the group may have called the provider for any message still queued
 *   in it: the next delivery takes the expired claim over and hands each of those to a single task
 *   as a lost claim of its own, which asks the provider before anything else (or fails the message
 *   as unknown where the provider cannot be asked), exactly as for a lost single send.
 */
import type { Deps } from '../deps.js';
import type { QueueName } from '../catalog.js';
import type { GroupSendTask } from '../ports.js';
import { safeReason } from './error-text.js';
import { goAgainAlone, GROUP_RETRY_DELAY_SECONDS, OutcomeNotRecorded, RetryLater, sendClaimed, type Attempt, type DeliveryOutcome } from './deliver-message.js';

type D = Parameters<typeof sendClaimed>[0] & Pick<Deps, 'sendGroups'>;

export interface GroupMessageOutcome {
  outcome: DeliveryOutcome;
  /** A gateway fault made it retry (alarmed as for single sends). */
  gatewayFault?: boolean;
}

/** Thrown when some message's outcome could not be kept: the group's claim stays, and its next delivery reconciles what is left. */
export class GroupClaimKept extends Error {
  override name = 'GroupClaimKept';
}

export async function deliverGroup(d: D, task: GroupSendTask, attempt: Attempt, queue: QueueName): Promise<GroupMessageOutcome[]> {
  const now = d.clock.now();
  const until = new Date(now.getTime() + attempt.claimMs).toISOString();
  const claim = await d.sendGroups.claim(task.operatorId, task.group, until, now.toISOString());
  if (claim.state === 'done') return [{ outcome: 'duplicate' }];
  if (claim.state === 'busy') {
    // Held by another delivery (a duplicate, or a worker that died moments ago): back when its claim ends.
    const waitSeconds = Math.min(900, Math.max(1, Math.ceil((Date.parse(claim.until) - now.getTime()) / 1000) + 1));
    await d.queue.enqueue(queue, [task], { delaySeconds: waitSeconds });
    return [{ outcome: 'deferred' }];
  }
  const read = new Map((await d.messages.getMany(task.messageIds.map((messageId) => ({ operatorId: task.operatorId, messageId })))).map((m) => [m.id, m]));
  // In the task's order (a batch read answers in any order).
  const mine = task.messageIds.flatMap((id) => {
    const m = read.get(id);
    return m && m.status === 'queued' && m.sendGroup === task.group && m.claimedUntil === undefined ? [m] : [];
  });

  if (claim.state === 'taken-over') {
    const lost: string[] = [];
    for (const message of mine) {
      if (await d.messages.takeFromLostGroup(task.operatorId, message.id, task.group, claim.claimedAt, claim.claimedUntil)) lost.push(message.id);
    }
    await d.queue.enqueue(queue, lost.map((messageId) => ({ operatorId: task.operatorId, messageId })));
    await d.sendGroups.finish(task.operatorId, task.group, d.clock.now().toISOString());
    return lost.map(() => ({ outcome: 'lost-in-group' as const }));
  }

  const settled = await Promise.allSettled(mine.map((message) => sendClaimed(d, message, { ...attempt, group: task.group })));
  const outcomes: GroupMessageOutcome[] = [];
  let claimKept = false;
  for (const [i, result] of settled.entries()) {
    if (result.status === 'fulfilled') {
      outcomes.push({ outcome: result.value });
      continue;
    }
    const error: unknown = result.reason;
    if (error instanceof RetryLater && (error.gaveUp || error.handedOff)) {
      outcomes.push({ outcome: error.gaveUp ? 'gave-up' : 'retried', gatewayFault: error.gatewayFault });
      continue;
    }
    if (error instanceof OutcomeNotRecorded) {
      claimKept = true;
      continue;
    }
    // Failed before any provider call, or after a refusal (sendClaimed records every acceptance or
    // throws OutcomeNotRecorded): sending it again is safe, by a single send task.
    const message = mine[i]!;
    try {
      await goAgainAlone(d, message, safeReason(error), GROUP_RETRY_DELAY_SECONDS, { spent: false, fromGroup: true });
      outcomes.push({ outcome: 'retried' });
    } catch {
      claimKept = true;
    }
  }
  if (claimKept) throw new GroupClaimKept(`Send group ${task.group}: an outcome could not be recorded; the group's next delivery reconciles its messages`);
  await d.sendGroups.finish(task.operatorId, task.group, d.clock.now().toISOString());
  return outcomes;
}
