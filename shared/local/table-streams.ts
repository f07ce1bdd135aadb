/**
 * The local runtime's part of Lambda's stream triggers: one stream poller per catalog stream
 * function on DynamoDB Local's stream of the table (which serves the Streams API on its own endpoint).
 */
import { join } from 'node:path';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { StreamFunction } from '../catalog.js';
import type { DynamoDbCredentials } from './data-dir.js';
import { startStreamPoller, type StreamHandler, type StreamPoller } from './stream-poller.js';

export interface TableStreamsOptions {
  dynamodb: DynamoDBClient;
  endpoint: string;
  region: string;
  credentials: DynamoDbCredentials;
  tableName: string;
  functions: readonly StreamFunction[];
  /** Loads a function's handler (on its first batch, as a cold start). */
  loadHandler: (fn: StreamFunction) => Promise<StreamHandler>;
  /** Where each poller keeps its checkpoint (`stream-<id>.json`); absent: in memory. */
  dataDir?: string;
}

export async function startTableStreams(opts: TableStreamsOptions): Promise<StreamPoller> {
  const { Table } = await opts.dynamodb.send(new DescribeTableCommand({ TableName: opts.tableName }));
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`Table ${opts.tableName} has no stream; ensureTable enables it.`);
  const client = new DynamoDBStreamsClient({ endpoint: opts.endpoint, region: opts.region, credentials: opts.credentials });
  const pollers = opts.functions.map((fn) => {
    let loading: Promise<StreamHandler> | undefined;
    // A module that fails to load is tried again on the next batch (which the poller retries).
    const handler: StreamHandler = async (event, context, callback) => {
      loading ??= opts.loadHandler(fn).catch((error: unknown) => {
        loading = undefined;
        throw error;
      });
      return (await loading)(event, context, callback);
    };
    return startStreamPoller({
      client,
      streamArn,
      fn,
      handler,
      region: opts.region,
      ...(opts.dataDir ? { checkpointFile: join(opts.dataDir, `stream-${fn.id}.json`) } : {}),
    });
  });
  return {
    async stop() {
      await Promise.all(pollers.map((poller) => poller.stop()));
      client.destroy();
    },
  };
}
