import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { Template } from '../../domain/records.js';
import type { TemplateStore } from '../../ports.js';
import { documentClient } from './client.js';
import { queryPage, stripKeys } from './query-page.js';
import { key } from './table.js';

export const dynamoTemplateStore: TemplateStore = {
  async get(operatorId, id) {
    const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: key.template(operatorId, id) }));
    return reply.Item ? stripKeys<Template>(reply.Item) : undefined;
  },

  async put(operatorId, template) {
    await documentClient().send(
      new PutCommand({ TableName: config().TABLE_NAME, Item: { ...key.template(operatorId, template.id), entity: 'template', ...template } }),
    );
  },

  async list(operatorId, limit, cursor) {
    const partition = { attribute: 'pk', value: `OP#${operatorId}` };
    return queryPage(
      {
        TableName: config().TABLE_NAME,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':p': partition.value, ':prefix': 'TPL#' },
      },
      { limit, cursor, partition, keyAttributes: ['pk', 'sk'], map: (item) => stripKeys<Template>(item) },
    );
  },
};
