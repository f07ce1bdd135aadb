/**
 * vitest globalSetup: one in-memory DynamoDB Local and one SQS server for the whole run. Test files
 * get their endpoints with inject() and keep apart through their own table and queue names
 * (test/support/local-stack.ts).
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../shared/local/dynamodb-local.js';
import { startSqsLocal } from '../../shared/local/sqs-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    sqsEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  // Node 20 is supported today; the SDK's notice about 2027 would repeat in every run's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const dynamodb = await startDynamoDbLocal({ port: 0 });
  let sqs: Awaited<ReturnType<typeof startSqsLocal>>;
  try {
    sqs = await startSqsLocal({ port: 0 });
  } catch (error) {
    await dynamodb.stop();
    throw error;
  }
  project.provide('dynamodbEndpoint', dynamodb.endpoint);
  project.provide('sqsEndpoint', sqs.endpoint);
  return async () => {
    await sqs.stop();
    await dynamodb.stop();
  };
}
