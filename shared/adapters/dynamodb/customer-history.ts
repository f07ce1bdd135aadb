/**
 * A customer's history, newest first: their messages in the customer-messages index (gsi4, keys
 * only, sorted by MSG#<id>) merged with their broadcast messages, which have no entry there
 * (customer-broadcast-messages.ts). Both sides are in message-id order, so the merge is by id, and a
 * broadcast message sorts among the others by its id's time prefix: when its broadcast started.
 *
 * Each side says how far down it knows every message (the index: down to its last item when it has
 * more; the broadcasts: down to the last prefix walked); the page is what both know, newest first, up
 * to `limit`. The cursor is the id the next page starts below, signed with the list it belongs to.
 */
import { config } from '../../config.js';
import { idRange } from '../../domain/ids.js';
import type { Message } from '../../domain/records.js';
import type { MessageFilter, Page } from '../../ports.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { customerBroadcastMessages } from './customer-broadcast-messages.js';
import { keysThenItems } from './index-page.js';
import { key } from './table.js';

export async function customerHistory(
  operatorId: string,
  filter: Omit<MessageFilter, 'broadcast'> & { customerId: string },
  limit: number,
  cursor: string | undefined,
  items: {
    /** The status, channel and direction filters, applied to an item read by key. */
    accept: (item: Record<string, unknown>) => boolean;
    map: (item: Record<string, unknown>) => Message;
  },
): Promise<Page<Message>> {
  const { min, max } = idRange(filter.from ? new Date(filter.from) : undefined, filter.to ? new Date(filter.to) : undefined);
  const inCode = { status: filter.status, channel: filter.channel, direction: filter.direction };
  const filtered = Object.values(inCode).some((v) => v !== undefined);
  const binding = JSON.stringify(['customer-history', operatorId, filter.customerId, min, max, inCode]);
  const before = (await decodeCursor(cursor, binding, ['before']))?.before;

  const partition = { attribute: 'gsi4pk', value: key.customerMessagesIndex(operatorId, filter.customerId) };
  const direct = await keysThenItems(
    {
      TableName: config().TABLE_NAME,
      IndexName: 'gsi4',
      KeyConditionExpression: '#p = :p AND #s BETWEEN :min AND :max',
      ExpressionAttributeNames: { '#p': partition.attribute, '#s': 'gsi4sk' },
      ExpressionAttributeValues: { ':p': partition.value, ':min': `MSG#${min}`, ':max': `MSG#${before === undefined ? max : justBelow(before)}` },
      ScanIndexForward: false,
    },
    {
      limit,
      partition,
      keyAttributes: ['pk', 'sk', partition.attribute, 'gsi4sk'],
      accept: filtered ? items.accept : undefined,
      filter: inCode,
      map: items.map,
    },
  );
  // Below the index's last item when it has more, nothing would make this page.
  const directFloor = direct.cursor ? direct.items.at(-1)!.id : undefined;
  const broadcast = await customerBroadcastMessages(
    operatorId,
    filter.customerId,
    { lowest: directFloor ?? min, highest: max, ...(before !== undefined ? { before } : {}) },
    { want: limit, accept: items.accept, ...(direct.items[0] ? { above: direct.items[0].id } : {}) },
  );

  const floor = [directFloor, broadcast.floor].filter((f): f is string => f !== undefined).sort().at(-1);
  const known = [...direct.items, ...broadcast.items.map(items.map)]
    .filter((m) => floor === undefined || m.id >= floor)
    .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const page = known.slice(0, limit);
  const next = known.length > limit ? page.at(-1)!.id : floor;
  return next === undefined ? { items: page } : { items: page, cursor: await encodeCursor({ before: next }, binding) };
}

/**
 * A bound for BETWEEN (which takes its bounds in) under `id` and over every id below it: ids have one
 * length and characters under "~", so the last character one lower, then "~", is past all of them.
 */
function justBelow(id: string): string {
  return `${id.slice(0, -1)}${String.fromCharCode(id.charCodeAt(id.length - 1) - 1)}~`;
}
