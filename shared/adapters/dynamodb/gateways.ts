import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { Gateway } from '../../domain/records.js';
import type { GatewayStore } from '../../ports.js';
import { documentClient } from './client.js';
import { stripKeys } from './query-page.js';
import { key } from './table.js';

/**
 * Gateways read by id, kept a few seconds per process: every send and every receipt opens its
 * gateway, and a broadcast sends thousands through one. A change made here is seen at once; one made
 * by another process within GATEWAY_CACHE_MS. Only gateways that exist are kept (an unknown id from a
 * webhook URL is read each time, and cannot fill the cache), at most MAX_CACHED of them.
 */
const GATEWAY_CACHE_MS = 5_000;
const MAX_CACHED = 200;
const cached = new Map<string, { gateway: Gateway; until: number }>();

export const dynamoGatewayStore: GatewayStore = {
  async get(gatewayId) {
    const hit = cached.get(gatewayId);
    if (hit && hit.until > Date.now()) return structuredClone(hit.gateway);
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: key.gateway(gatewayId) }));
    if (!reply.Item) {
      cached.delete(gatewayId);
      return undefined;
    }
    const gateway = stripKeys<Gateway>(reply.Item);
    if (cached.size >= MAX_CACHED && !cached.has(gatewayId)) cached.delete(cached.keys().next().value!);
    cached.set(gatewayId, { gateway: structuredClone(gateway), until: Date.now() + GATEWAY_CACHE_MS });
    return gateway;
  },

  async put(gateway) {
    cached.delete(gateway.id);
    await documentClient().send(
      new PutCommand({
        TableName: config().TABLE_NAME,
        Item: {
          ...key.gateway(gateway.id),
          gsi1pk: key.operatorGatewaysIndex(gateway.operatorId),
          gsi1sk: `GW#${gateway.id}`,
          entity: 'gateway',
          ...gateway,
        },
      }),
    );
  },

  async list(operatorId) {
    // An operator has a handful of gateways: one page of the index holds them all.
    const reply = await documentClient().send(
      new QueryCommand({
        TableName: config().TABLE_NAME,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': key.operatorGatewaysIndex(operatorId) },
      }),
    );
    return (reply.Items ?? []).map((item) => stripKeys<Gateway>(item));
  },

  async delete(gatewayId) {
    cached.delete(gatewayId);
    await documentClient().send(new DeleteCommand({ TableName: config().TABLE_NAME, Key: key.gateway(gatewayId) }));
  },
};
