/**
 * Messages per day, exact across processes: a counter per operator per day in the operator's time
 * zone (shared/adapters/dynamodb/counters.ts). Taken as the last step before a message is written,
 * so a request refused for anything else never spends quota; given back when nothing was created.
 *
 * Idempotent repeats (the same Idempotency-Key, or the derived key of a resend) count once: the
 * key is a claim on the counter, written with the count in one transaction. A repeat finds the
 * claim, counts nothing (even on a day whose quota is used up) and gets the first message back.
 */
import { TooManyRequests } from '../domain/errors.js';
import type { Operator } from '../domain/records.js';
import { localDay, operatorLimits, secondsUntilNextDay } from '../domain/rate-limit.js';
import type { Deps } from '../deps.js';
import { logger } from '../logger.js';

export const MESSAGES_PER_DAY_COUNTER = 'messagesPerDay';
/** A day's counter outlives its day by this much (its TTL), then DynamoDB deletes it. */
const COUNTER_KEPT_SECONDS = 3 * 24 * 60 * 60;
/** As long as the message store remembers an Idempotency-Key (never longer: a claim must not outlive it). */
const CLAIM_KEPT_SECONDS = 24 * 60 * 60;

export interface TakenMessage {
  /** Gives the unit back (the request created nothing). Never throws: a unit left taken only errs on the safe side. */
  giveBack(): Promise<void>;
}

/**
 * Takes one of today's messages for the operator, or throws TooManyRequests (429, Retry-After
 * until the operator's next midnight). `claimKey`: the request's idempotency key.
 */
export async function takeDailyMessage(d: Pick<Deps, 'counters' | 'clock'>, operator: Operator, claimKey?: string): Promise<TakenMessage> {
  const now = d.clock.now();
  const limit = operatorLimits(operator).messagesPerDay;
  const day = localDay(now, operator.timezone);
  const untilTomorrow = secondsUntilNextDay(now, operator.timezone);
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const outcome = await d.counters.take(operator.id, MESSAGES_PER_DAY_COUNTER, day, limit, {
    expiresAt: nowSeconds + untilTomorrow + COUNTER_KEPT_SECONDS,
    claim: claimKey === undefined ? undefined : { key: claimKey, expiresAt: nowSeconds + CLAIM_KEPT_SECONDS },
  });
  if (outcome === 'over-limit') {
    throw new TooManyRequests(
      `This operator may send at most ${limit.toLocaleString('en')} messages a day (limits.messagesPerDay) and has sent them all on ${day} ` +
        `(${operator.timezone}); sending resumes at midnight, in ${untilTomorrow} s. To raise the limit, PATCH /v1/settings.`,
      untilTomorrow,
      { name: 'messagesPerDay', value: limit },
    );
  }
  if (outcome === 'repeat') return { giveBack: async () => {} };
  return {
    async giveBack() {
      try {
        await d.counters.giveBack(operator.id, MESSAGES_PER_DAY_COUNTER, day, claimKey);
      } catch (error) {
        logger.warn('Could not give back a daily message unit', { error, operatorId: operator.id, day });
      }
    },
  };
}

/**
 * A broadcast page's messages, taken at once with the page as the claim (a page expanded again
 * counts nothing): false when they would pass today's limit (the page's recipients are skipped).
 */
export async function takeDailyMessages(d: Pick<Deps, 'counters' | 'clock'>, operator: Operator, count: number, claimKey: string): Promise<boolean> {
  const now = d.clock.now();
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const outcome = await d.counters.take(operator.id, MESSAGES_PER_DAY_COUNTER, localDay(now, operator.timezone), operatorLimits(operator).messagesPerDay, {
    expiresAt: nowSeconds + secondsUntilNextDay(now, operator.timezone) + COUNTER_KEPT_SECONDS,
    claim: { key: claimKey, expiresAt: nowSeconds + CLAIM_KEPT_SECONDS },
    amount: count,
  });
  return outcome !== 'over-limit';
}
