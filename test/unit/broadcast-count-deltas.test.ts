import { describe, expect, it } from 'vitest';
import { after, broadcastCountChanges, padSequence, type StreamChange } from '../../shared/domain/broadcast-count-deltas.js';

/** A broadcast message as messages.ts stores it (the fields the counters read, and some they do not). */
const message = (status: string, extra: Record<string, unknown> = {}) => ({
  pk: 'OP#demo',
  sk: 'MSG#01J0000000BC1',
  entity: 'message',
  id: '01J0000000BC1',
  operatorId: 'demo',
  broadcastId: 'bc1',
  status,
  cost: { amount: 35, currency: 'BDT' },
  updatedAt: '2026-11-28T10:00:00.000Z',
  ...extra,
});

const insert = (sequenceNumber: string, image: Record<string, unknown>): StreamChange => ({ eventName: 'INSERT', sequenceNumber, newImage: image });
const modify = (sequenceNumber: string, oldImage: Record<string, unknown>, newImage: Record<string, unknown>): StreamChange => ({ eventName: 'MODIFY', sequenceNumber, oldImage, newImage });

describe('broadcastCountChanges', () => {
  it('counts an inserted message once in its status', () => {
    const [change] = broadcastCountChanges([insert('101', message('queued'))]);
    expect(change).toMatchObject({ operatorId: 'demo', broadcastId: 'bc1', deltas: { queued: 1 }, left: [] });
    expect(broadcastCountChanges([insert('102', message('cancelled'))])[0]!.deltas).toEqual({ cancelled: 1 });
  });

  it('moves a status change from one count to the other, and a message that left us adds its cost and its time', () => {
    const [change] = broadcastCountChanges([modify('200', message('queued'), message('sent', { updatedAt: '2026-11-28T10:00:07.000Z' }))]);
    expect(change!.deltas).toEqual({ queued: -1, sent: 1, spent: 35 });
    expect(change!.left).toEqual(['2026-11-28T10:00:07.000Z']);
  });

  it('counts a receipt that overtook `sent` as leaving us, and a later receipt as a move only', () => {
    const [overtaken] = broadcastCountChanges([modify('1', message('queued'), message('delivered'))]);
    expect(overtaken!.deltas).toEqual({ queued: -1, delivered: 1, spent: 35 });
    const [late] = broadcastCountChanges([modify('2', message('sent'), message('delivered'))]);
    expect(late!.deltas).toEqual({ sent: -1, delivered: 1 });
    expect(late!.left).toEqual([]);
  });

  it('spends nothing on a failed or cancelled message', () => {
    const changes = broadcastCountChanges([modify('1', message('queued'), message('failed')), modify('2', message('queued', { id: 'b' }), message('cancelled', { id: 'b' }))]);
    expect(changes[0]!.deltas).toEqual({ queued: -2, failed: 1, cancelled: 1 });
    expect(changes[0]!.left).toEqual([]);
  });

  it('ignores rewrites without a status change, removals, other items and messages of no broadcast', () => {
    const { broadcastId: _none, ...single } = message('queued');
    const changes: StreamChange[] = [
      modify('1', message('queued'), message('queued', { claimedUntil: 'x' })),
      { eventName: 'REMOVE', sequenceNumber: '2', oldImage: message('queued') },
      insert('3', { pk: 'OP#demo', sk: 'BCAST#bc1', entity: 'broadcast', operatorId: 'demo', broadcastId: 'bc1', status: 'queued' }),
      insert('4', single),
      modify('5', single, { ...single, status: 'sent' }),
      insert('6', message('unknown-status')),
    ];
    expect(broadcastCountChanges(changes)).toEqual([]);
  });

  it('sums a batch per broadcast and operator, with the sequence range of the records that counted', () => {
    const changes = [
      insert('1000', message('queued')),
      modify('1001', message('queued'), message('queued', { attempts: 1 })),
      insert('1002', message('queued', { broadcastId: 'bc2' })),
      modify('1003', message('queued'), message('sent')),
      insert('999999999999999999999', message('queued', { operatorId: 'other' })),
      modify('1004', message('sent'), message('delivered')),
    ];
    const byKey = Object.fromEntries(broadcastCountChanges(changes).map((c) => [`${c.operatorId}/${c.broadcastId}`, c]));
    expect(Object.keys(byKey)).toEqual(['demo/bc1', 'demo/bc2', 'other/bc1']);
    // Its queued +1 -1 cancels out, and is left out.
    expect(byKey['demo/bc1']!.deltas).toEqual({ delivered: 1, spent: 35 });
    expect(byKey['demo/bc1']!.minSequence).toBe(padSequence('1000'));
    expect(byKey['demo/bc1']!.maxSequence).toBe(padSequence('1004'));
    expect(byKey['demo/bc1']!.moves).toHaveLength(3);
    expect(byKey['demo/bc2']!.deltas).toEqual({ queued: 1 });
    expect(byKey['other/bc1']!.minSequence).toBe(padSequence('999999999999999999999'));
  });

  it('compares sequence numbers of different lengths by value once padded', () => {
    expect(padSequence('99')).toHaveLength(40);
    expect(padSequence('99') < padSequence('100')).toBe(true);
    const [change] = broadcastCountChanges([insert('100', message('queued')), modify('99', message('queued', { id: 'z' }), message('sent', { id: 'z' }))]);
    expect(change!.minSequence).toBe(padSequence('99'));
    expect(change!.maxSequence).toBe(padSequence('100'));
  });
});

describe('after', () => {
  it('keeps only the records past a sequence number already counted, summed again', () => {
    const [change] = broadcastCountChanges([insert('10', message('queued')), insert('11', message('queued', { id: 'b' })), modify('12', message('queued'), message('sent'))]);
    const rest = after(change!, padSequence('10'));
    // The second insert (+1 queued) and the move (-1 queued) cancel out.
    expect(rest).toMatchObject({ deltas: { sent: 1, spent: 35 }, minSequence: padSequence('11'), maxSequence: padSequence('12') });
    expect(after(change!, padSequence('12'))).toBeUndefined();
  });
});
