import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { GatewayCircuits } from '../../ports.js';
import { documentClient } from './client.js';

/** Gateway faults within this window count together. */
const FAULT_WINDOW_MS = 5 * 60 * 1000;
/** This many faults in the window open the circuit... */
const FAULTS_TO_OPEN = 3;
/** ...for this long; then the gateway is tried again. */
const COOL_DOWN_MS = 5 * 60 * 1000;

const circuitKey = (gatewayId: string) => ({ pk: `GW#${gatewayId}`, sk: '#CIRCUIT' });

/**
 * After a throttle the gateway's rate is lowered by a fifth, for this long (each further throttle
 * lowers it again and restarts the wait): gentle enough that a stray 429 at a second's edge costs
 * little, quick enough that a provider that keeps throttling is below its limit within seconds.
 */
export const SLOW_DOWN_MS = 15 * 1000;
const SLOW_DOWN_FACTOR = 0.8;
/** Throttles within this long of the last halving are the same burst: they halve once. */
const THROTTLE_BURST_MS = 1000;

type CircuitItem = { gatewayId: string; openUntil: unknown; slowMaxPerSecond: unknown; slowUntil: unknown };

/**
 * Circuits read in the last second, per process: every send asks about its gateway's circuit, and a
 * send batch asks ten times within a few milliseconds. A fault or throttle recorded here is seen at
 * once; one recorded by another worker within CIRCUIT_CACHE_MS.
 */
const CIRCUIT_CACHE_MS = 1_000;
const recent = new Map<string, { item: CircuitItem | undefined; until: number }>();
/** Reads under way: the sends that find a circuit's entry stale together wait for one read, not a read each. */
const reading = new Map<string, Promise<unknown>>();
/** Bumped when this process records a change: a read that started before it does not cache what it read. */
const generation = new Map<string, number>();

function forget(gatewayId: string): void {
  recent.delete(gatewayId);
  generation.set(gatewayId, (generation.get(gatewayId) ?? 0) + 1);
  if (generation.size > 500) generation.clear();
}

async function readCircuits(gatewayIds: string[]): Promise<CircuitItem[]> {
  const now = Date.now();
  const stale = gatewayIds.filter((id) => !((recent.get(id)?.until ?? 0) > now));
  const toRead = stale.filter((id) => !reading.has(id));
  if (toRead.length > 0) {
    const started = new Map(toRead.map((id) => [id, generation.get(id) ?? 0]));
    const read = readCircuitItems(toRead).then((items) => {
      if (recent.size > 500) recent.clear();
      for (const id of toRead) {
        const item = items.find((candidate) => candidate.gatewayId === id);
        // A change recorded meanwhile is newer than what was read: cache nothing, use what was read once.
        if ((generation.get(id) ?? 0) === started.get(id)) recent.set(id, { item, until: now + CIRCUIT_CACHE_MS });
      }
      return items;
    });
    const settled = read.finally(() => toRead.forEach((id) => reading.get(id) === settled && reading.delete(id)));
    for (const id of toRead) reading.set(id, settled);
  }
  const pending = new Set(stale.map((id) => reading.get(id)).filter((read) => read !== undefined));
  const readNow = (await Promise.all(pending)).flat() as CircuitItem[];
  const wasStale = new Set(stale);
  return gatewayIds.flatMap((id) => {
    const item = wasStale.has(id) ? readNow.find((candidate) => candidate.gatewayId === id) : recent.get(id)?.item;
    return item ? [item] : [];
  });
}

async function readCircuitItems(gatewayIds: string[]): Promise<CircuitItem[]> {
  if (gatewayIds.length === 0) return [];
  const table = config().TABLE_NAME;
  const reply = await documentClient().send(
    new BatchGetCommand({
      RequestItems: { [table]: { Keys: gatewayIds.slice(0, 100).map(circuitKey), ProjectionExpression: 'pk, openUntil, slowMaxPerSecond, slowUntil' } },
    }),
  );
  // Unprocessed keys are read as closed and not slowed: an optimisation, never a reason to fail a send.
  return (reply.Responses?.[table] ?? []).map((item) => ({
    gatewayId: String(item.pk).slice(3),
    openUntil: item.openUntil as unknown,
    slowMaxPerSecond: item.slowMaxPerSecond as unknown,
    slowUntil: item.slowUntil as unknown,
  }));
}

/** The circuit breaker of each gateway, one small item beside it, shared by every worker. */
export const dynamoGatewayCircuits: GatewayCircuits = {
  async openUntil(gatewayIds, now) {
    return (await this.state(gatewayIds, now)).open;
  },

  async slowedDown(gatewayIds, now) {
    return (await this.state(gatewayIds, now)).slowed;
  },

  async state(gatewayIds, now) {
    const open = new Map<string, string>();
    const slowed = new Map<string, { maxPerSecond: number; until: string }>();
    for (const item of await readCircuits(gatewayIds)) {
      if (typeof item.openUntil === 'string' && item.openUntil > now) open.set(item.gatewayId, item.openUntil);
      if (typeof item.slowUntil === 'string' && item.slowUntil > now && typeof item.slowMaxPerSecond === 'number') {
        slowed.set(item.gatewayId, { maxPerSecond: item.slowMaxPerSecond, until: item.slowUntil });
      }
    }
    return { open, slowed };
  },

  async recordThrottle(gatewayId, currentMaxPerSecond, now) {
    forget(gatewayId);
    const table = config().TABLE_NAME;
    const lowered = Math.max(1, Math.floor(currentMaxPerSecond * SLOW_DOWN_FACTOR));
    const until = new Date(Date.parse(now) + SLOW_DOWN_MS).toISOString();
    const burstStart = new Date(Date.parse(now) - THROTTLE_BURST_MS).toISOString();
    try {
      // Once per burst: many workers see the same 429s within a second, and halve once.
      await documentClient().send(
        new UpdateCommand({
          TableName: table,
          Key: circuitKey(gatewayId),
          UpdateExpression: 'SET slowMaxPerSecond = :lowered, slowUntil = :until, lastThrottleAt = :now, entity = :entity',
          ConditionExpression: 'attribute_not_exists(lastThrottleAt) OR lastThrottleAt < :burstStart',
          ExpressionAttributeValues: { ':lowered': lowered, ':until': until, ':now': now, ':burstStart': burstStart, ':entity': 'gatewayCircuit' },
        }),
      );
      forget(gatewayId);
      return lowered;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      forget(gatewayId);
      return (await this.slowedDown([gatewayId], now)).get(gatewayId)?.maxPerSecond ?? lowered;
    }
  },

  async recordFault(gatewayId, now) {
    forget(gatewayId);
    const table = config().TABLE_NAME;
    const windowStart = new Date(Date.parse(now) - FAULT_WINDOW_MS).toISOString();
    let faults: number;
    try {
      const reply = await documentClient().send(
        new UpdateCommand({
          TableName: table,
          Key: circuitKey(gatewayId),
          UpdateExpression: 'SET faults = faults + :one, lastFaultAt = :now',
          ConditionExpression: 'lastFaultAt >= :windowStart',
          ExpressionAttributeValues: { ':one': 1, ':now': now, ':windowStart': windowStart },
          ReturnValues: 'ALL_NEW',
        }),
      );
      faults = Number(reply.Attributes?.faults ?? 1);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The first fault of a new window.
      await documentClient().send(
        new UpdateCommand({
          TableName: table,
          Key: circuitKey(gatewayId),
          UpdateExpression: 'SET faults = :one, lastFaultAt = :now, entity = :entity',
          ExpressionAttributeValues: { ':one': 1, ':now': now, ':entity': 'gatewayCircuit' },
        }),
      );
      faults = 1;
    }
    if (faults < FAULTS_TO_OPEN) return undefined;
    const until = new Date(Date.parse(now) + COOL_DOWN_MS).toISOString();
    await documentClient().send(
      new UpdateCommand({
        TableName: table,
        Key: circuitKey(gatewayId),
        UpdateExpression: 'SET openUntil = :until, faults = :zero',
        ExpressionAttributeValues: { ':until': until, ':zero': 0 },
      }),
    );
    // Forgotten again after the write: a read in between cached the circuit closed.
    forget(gatewayId);
    return until;
  },
};
