/**
 * Billing events from the EventBridge bus (rule: source `ispnotify.billing`): detail-type is the
 * event type, detail `{operatorId, id, customerId, occurredAt, data}`. The same service as
 * POST /v1/events, so a retried or duplicated delivery sends nothing twice.
 *
 * A bad event throws: EventBridge invokes asynchronously, so it is retried (harmlessly: nothing was
 * written) and then lands in the rule's dead-letter queue, where it is alarmed and kept to inspect,
 * rather than dropped in silence.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { EventBridgeEvent } from 'aws-lambda';
import { z } from 'zod';
import { BILLING_EVENT_SOURCE } from '../../shared/catalog.js';
import { DomainError } from '../../shared/domain/errors.js';
import { EventInput } from '../../shared/domain/event-schemas.js';
import { ResourceId } from '../../shared/domain/schemas.js';
import { zodFields } from '../../shared/domain/zod-fields.js';
import { deps } from '../../shared/deps.js';
import { logger } from '../../shared/logger.js';
import { handleEvent } from '../../shared/services/events.js';

const Detail = z.looseObject({ operatorId: ResourceId });

function invalidEvent(what: string, error: z.ZodError): Error {
  return new Error(`Billing event refused: ${what}: ${zodFields(error).map((f) => `${f.field || 'detail'} ${f.message}`).join('; ')}`);
}

export const handler = middy<EventBridgeEvent<string, unknown>>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (busEvent) => {
    if (busEvent.source !== BILLING_EVENT_SOURCE) throw new Error(`Billing event refused: source "${busEvent.source}" is not ${BILLING_EVENT_SOURCE}.`);
    const detail = Detail.safeParse(busEvent.detail);
    if (!detail.success) throw invalidEvent('detail', detail.error);
    const { operatorId, ...rest } = detail.data;
    const parsed = EventInput.safeParse({ ...rest, type: busEvent['detail-type'] });
    if (!parsed.success) throw invalidEvent(`event ${String(rest.id ?? '(no id)')}`, parsed.error);
    const operator = await deps().operators.get(operatorId);
    if (!operator) throw new Error(`Billing event refused: no operator "${operatorId}".`);
    try {
      const { result, repeat } = await handleEvent(deps(), operator, parsed.data);
      logger.info('Billing event handled', { operatorId, eventId: result.id, type: result.type, repeat, messages: result.messages.length, skipped: result.skipped.length });
      return result;
    } catch (error) {
      if (error instanceof DomainError) logger.warn('Billing event refused', { operatorId, eventId: parsed.data.id, kind: error.kind, message: error.message, fields: error.fields });
      throw error;
    }
  });
