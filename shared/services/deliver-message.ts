import { ProviderRejected } from '../domain/errors.js';
import type { Message } from '../domain/records.js';
import type { Deps } from '../deps.js';
import type { SendTask } from '../ports.js';
import { openGateway, webhookUrl } from './gateways.js';

type D = Pick<Deps, 'messages' | 'gateways' | 'cipher' | 'clock' | 'fetch' | 'publicBaseUrl'>;

/** Thrown to have SQS deliver the task again later (reported as a batch item failure). */
export class RetryLater extends Error {
  override name = 'RetryLater';
  /** True on the last attempt: the message is failed and the task goes on to the DLQ. */
  constructor(message: string, readonly gaveUp = false) {
    super(message);
  }
}

/** What one delivery did, for metrics; retries are thrown as RetryLater. */
export type DeliveryOutcome = 'sent' | 'rejected' | 'duplicate' | 'outcome-unknown';

export interface Attempt {
  /** SQS ApproximateReceiveCount of this delivery. */
  receiveCount: number;
  /** The queue's maxReceiveCount: after this delivery the task goes to the DLQ. */
  maxReceiveCount: number;
  /** How long the claim on the message lasts: the worker's timeout. */
  claimMs: number;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Sends one queued message at most once. The message's claim (a conditional write) is the
 * idempotency record: a duplicate SQS delivery finds it claimed or already sent and does nothing,
 * and a claim left behind by a worker that died mid-call is never retried blindly (it could
 * double-send), so that message is failed with the reason and can be resent by a person.
 */
export async function deliverMessage(d: D, task: SendTask, attempt: Attempt): Promise<DeliveryOutcome> {
  const now = d.clock.now();
  const claim = await d.messages.claim(task.operatorId, task.messageId, new Date(now.getTime() + attempt.claimMs).toISOString(), now.toISOString());
  if (!claim.ok) {
    switch (claim.reason) {
      case 'not-found':
      case 'not-queued':
        return 'duplicate'; // already sent, failed or gone
      case 'claimed':
        throw new RetryLater(`Message ${task.messageId} is being sent by another worker`);
      case 'claim-expired':
        await fail(d, claim.message!, 'The send outcome is unknown (the worker stopped during the provider call); not retried to avoid a double send. Resend it if it did not arrive.');
        return 'outcome-unknown';
    }
  }
  const message = claim.message;
  try {
    const opened = await openGateway(d, message.gatewayId);
    if (!opened) throw new ProviderRejected(`Gateway ${message.gatewayId} no longer exists.`);
    const { providerMessageId } = await opened.provider.send(
      { messageId: message.id, to: message.to, text: message.text, statusCallbackUrl: webhookUrl(d.publicBaseUrl, opened.gateway) },
      { credentials: opened.credentials, settings: opened.settings },
      { fetch: d.fetch, clock: d.clock },
    );
    await d.messages.transition(
      message.operatorId,
      message.id,
      { status: 'sent', at: d.clock.now().toISOString(), providerStatus: 'accepted' },
      { providerMessageId, gatewayId: opened.gateway.id },
    );
    return 'sent';
  } catch (error) {
    if (error instanceof ProviderRejected) {
      await fail(d, message, error.message, error.code);
      return 'rejected';
    }
    if (attempt.receiveCount >= attempt.maxReceiveCount) {
      await fail(d, message, `Gave up after ${attempt.receiveCount} attempts: ${errorText(error)}`);
      throw new RetryLater(errorText(error), true); // also lands in the DLQ, for the operator's alarm
    }
    await d.messages.release(message.operatorId, message.id, errorText(error), d.clock.now().toISOString());
    throw new RetryLater(errorText(error));
  }
}

async function fail(d: D, message: Message, reason: string, providerStatus?: string) {
  await d.messages.transition(message.operatorId, message.id, { status: 'failed', at: d.clock.now().toISOString(), reason, providerStatus });
}
