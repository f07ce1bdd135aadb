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

/** The circuit breaker of each gateway, one small item beside it, shared by every worker. */
export const dynamoGatewayCircuits: GatewayCircuits = {
  async openUntil(gatewayIds, now) {
    const open = new Map<string, string>();
    if (gatewayIds.length === 0) return open;
    const table = config().TABLE_NAME;
    const reply = await documentClient().send(
      new BatchGetCommand({ RequestItems: { [table]: { Keys: gatewayIds.slice(0, 100).map(circuitKey), ProjectionExpression: 'pk, openUntil' } } }),
    );
    // Unprocessed keys are read as closed: a circuit is an optimisation, never a reason to fail a send.
    for (const item of reply.Responses?.[table] ?? []) {
      if (typeof item.openUntil === 'string' && item.openUntil > now) open.set(String(item.pk).slice(3), item.openUntil);
    }
    return open;
  },

  async recordFault(gatewayId, now) {
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
    return until;
  },
};
