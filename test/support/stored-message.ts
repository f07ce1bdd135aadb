/** A minimal stored message for storage tests (an SMS through a sandbox gateway), at a given time. */
import { newId } from '../../shared/domain/ids.js';
import type { Channel, Message, MessageStatus } from '../../shared/domain/records.js';

export interface StoredMessageFields {
  operatorId: string;
  at: string;
  id?: string;
  status?: MessageStatus;
  customerId?: string;
  channel?: Channel;
  direction?: 'in';
}

/** Queued at `at`; any other status is recorded as reached at the same moment. */
export function storedMessage(fields: StoredMessageFields): Message {
  const { at } = fields;
  const status = fields.status ?? 'queued';
  return {
    id: fields.id ?? newId(new Date(at)),
    operatorId: fields.operatorId,
    channel: fields.channel ?? 'sms',
    to: '+8801711223344',
    text: 'hi',
    encoding: 'GSM-7',
    characters: 2,
    segments: 1,
    gatewayId: 'gw-1',
    provider: 'sandbox',
    status,
    history: status === 'queued' ? [{ status, at }] : [{ status: 'queued', at }, { status, at }],
    attempts: 0,
    createdAt: at,
    updatedAt: at,
    ...(fields.customerId ? { customerId: fields.customerId } : {}),
    ...(fields.direction ? { direction: fields.direction } : {}),
  };
}
