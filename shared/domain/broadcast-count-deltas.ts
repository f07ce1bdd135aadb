/**
 * A broadcast's counters, derived from the table's stream instead of one ADD per message move: each
 * stream record of a broadcast message says how it moved (its old and new image), so a batch of
 * records adds up to a few deltas per broadcast. Pure: the handler unmarshalls the images, the
 * broadcast store applies the sums (once per stream shard and sequence number, see its
 * applyStreamCounts).
 */
import type { MessageStatus } from './records.js';

/** What the counters hold besides the recent rate: one per status, and the minor units spent. */
export type CountField = MessageStatus | 'spent';
export type CountDeltas = Partial<Record<CountField, number>>;

/** One stream record, its images already unmarshalled. */
export interface StreamChange {
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** The stream's sequence number: a decimal string, increasing within a shard, of varying length. */
  sequenceNumber: string;
  oldImage?: Record<string, unknown>;
  newImage?: Record<string, unknown>;
}

/** What one record did to its broadcast's counters. */
export interface CountMove {
  /** The record's sequence number, padded (see padSequence): compares as a string. */
  sequence: string;
  deltas: CountDeltas;
  /** The message left us (a provider took it) then: the recent-rate window counts it. */
  leftAt?: string;
}

/** A batch's changes to one broadcast's counters. */
export interface BroadcastCountChange {
  operatorId: string;
  broadcastId: string;
  deltas: CountDeltas;
  /** When each message that left us did. */
  left: string[];
  /** The padded sequence numbers of the first and last record that moved a counter. */
  minSequence: string;
  maxSequence: string;
  /** The records one by one, in stream order: a part of the batch can be summed again (see `after`). */
  moves: CountMove[];
}

/** Sequence numbers have no fixed length: padded to 40 digits they compare as strings (DynamoDB conditions do). */
export const SEQUENCE_DIGITS = 40;
export const padSequence = (sequence: string) => sequence.padStart(SEQUENCE_DIGITS, '0');

const STATUSES: readonly string[] = ['queued', 'sent', 'delivered', 'read', 'failed', 'cancelled'] satisfies MessageStatus[];
const isStatus = (value: unknown): value is MessageStatus => typeof value === 'string' && STATUSES.includes(value);

/** The broadcast message an image is of (as messages.ts stores it), or undefined for anything else. */
function broadcastMessage(image: Record<string, unknown> | undefined): { operatorId: string; broadcastId: string; status: MessageStatus } | undefined {
  if (!image || image.entity !== 'message') return undefined;
  const { operatorId, broadcastId, status } = image;
  if (typeof operatorId !== 'string' || typeof broadcastId !== 'string' || !isStatus(status)) return undefined;
  return { operatorId, broadcastId, status };
}

/** A provider took it: from queued straight to sent, delivered or read (a receipt may overtake `sent`). */
const leftUs = (from: MessageStatus, to: MessageStatus) => from === 'queued' && (to === 'sent' || to === 'delivered' || to === 'read');

/** What one record does to the counters, or undefined when it moves none. */
function moveOf(change: StreamChange): (CountMove & { operatorId: string; broadcastId: string }) | undefined {
  const sequence = padSequence(change.sequenceNumber);
  if (change.eventName === 'INSERT') {
    const message = broadcastMessage(change.newImage);
    if (!message) return undefined;
    return { operatorId: message.operatorId, broadcastId: message.broadcastId, sequence, deltas: { [message.status]: 1 } };
  }
  // A message item is never deleted while its broadcast counts (erasure masks it in place): a removal counts nothing, as before.
  if (change.eventName !== 'MODIFY') return undefined;
  const after = broadcastMessage(change.newImage);
  const before = broadcastMessage(change.oldImage);
  // Claims, releases, fail-overs and late receipts rewrite a message without moving it.
  if (!after || !before || before.status === after.status) return undefined;
  const deltas: CountDeltas = { [before.status]: -1, [after.status]: 1 };
  if (!leftUs(before.status, after.status)) return { operatorId: after.operatorId, broadcastId: after.broadcastId, sequence, deltas };
  // Spent: what the message cost as it was queued (a provider accepted it, so it is debited).
  const cost = change.oldImage?.cost as { amount?: unknown } | undefined;
  deltas.spent = typeof cost?.amount === 'number' ? cost.amount : 0;
  const at = change.newImage?.updatedAt;
  return { operatorId: after.operatorId, broadcastId: after.broadcastId, sequence, deltas, ...(typeof at === 'string' ? { leftAt: at } : {}) };
}

/** The sums of some moves of one broadcast (zero sums left out). */
export function sumMoves(operatorId: string, broadcastId: string, moves: CountMove[]): BroadcastCountChange | undefined {
  if (moves.length === 0) return undefined;
  const deltas: CountDeltas = {};
  const left: string[] = [];
  let minSequence = moves[0]!.sequence;
  let maxSequence = moves[0]!.sequence;
  for (const move of moves) {
    for (const [field, n] of Object.entries(move.deltas) as Array<[CountField, number]>) deltas[field] = (deltas[field] ?? 0) + n;
    if (move.leftAt !== undefined) left.push(move.leftAt);
    if (move.sequence < minSequence) minSequence = move.sequence;
    if (move.sequence > maxSequence) maxSequence = move.sequence;
  }
  for (const field of Object.keys(deltas) as CountField[]) if (deltas[field] === 0) delete deltas[field];
  return { operatorId, broadcastId, deltas, left, minSequence, maxSequence, moves };
}

/** Per broadcast, in the order each first appears: what a batch of stream records did to its counters. */
export function broadcastCountChanges(changes: readonly StreamChange[]): BroadcastCountChange[] {
  const byBroadcast = new Map<string, { operatorId: string; broadcastId: string; moves: CountMove[] }>();
  for (const change of changes) {
    const move = moveOf(change);
    if (!move) continue;
    const { operatorId, broadcastId, ...rest } = move;
    const key = `${operatorId}\u0000${broadcastId}`;
    const group = byBroadcast.get(key) ?? { operatorId, broadcastId, moves: [] };
    group.moves.push(rest);
    byBroadcast.set(key, group);
  }
  return [...byBroadcast.values()].flatMap((group) => sumMoves(group.operatorId, group.broadcastId, group.moves) ?? []);
}

/** The part of a change after `sequence` (padded): what is left to count when the counters have seen up to it. */
export function after(change: BroadcastCountChange, sequence: string): BroadcastCountChange | undefined {
  return sumMoves(change.operatorId, change.broadcastId, change.moves.filter((move) => move.sequence > sequence));
}
