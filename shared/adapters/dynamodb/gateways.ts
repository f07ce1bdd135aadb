import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { Gateway } from '../../domain/records.js';
import type { GatewayStore } from '../../ports.js';
import { documentClient } from './client.js';
import { stripKeys } from './query-page.js';
import { key } from './table.js';

export const dynamoGatewayStore: GatewayStore = {
  async get(gatewayId) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: key.gateway(gatewayId) }));
    return reply.Item ? stripKeys<Gateway>(reply.Item) : undefined;
  },

  async put(gateway) {
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
    await documentClient().send(new DeleteCommand({ TableName: config().TABLE_NAME, Key: key.gateway(gatewayId) }));
  },
};
