import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { onConfigReset } from '../../config.js';

/** One client per process; the endpoint comes from AWS_ENDPOINT_URL_DYNAMODB locally. */
let client: DynamoDBDocumentClient | undefined;
const hooks = new Set<(client: DynamoDBDocumentClient) => void>();

export function documentClient(): DynamoDBDocumentClient {
  if (!client) {
    client = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
    for (const hook of hooks) hook(client);
  }
  return client;
}

/** Runs `hook` on the client now and on each one made later (e.g. SDK middleware that counts requests in a bench). */
export function onDocumentClient(hook: (client: DynamoDBDocumentClient) => void): () => void {
  hooks.add(hook);
  if (client) hook(client);
  return () => hooks.delete(hook);
}

// The local runtime points the process at new endpoints and resets the config: drop the old client.
onConfigReset(() => {
  client = undefined;
});
