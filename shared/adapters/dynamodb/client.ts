import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { onConfigReset } from '../../config.js';

/** One client per process; the endpoint comes from AWS_ENDPOINT_URL_DYNAMODB locally. */
let client: DynamoDBDocumentClient | undefined;

export function documentClient(): DynamoDBDocumentClient {
  client ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return client;
}

// The local runtime points the process at new endpoints and resets the config: drop the old client.
onConfigReset(() => {
  client = undefined;
});
