import { Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import type { CfnResource } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tableDefinition } from '../../shared/adapters/dynamodb/table.js';
import { DEFAULT_MEMORY_MB, dlqName, eventFunctions, httpFunctions, queues, scheduledFunctions, streamFunctions, workerFunctions } from '../../shared/catalog.js';
import { DEFAULT_ROUTE_THROTTLE, parseRouteKey } from '../../lib/constructs/http-api.js';
import { runtime } from '../../lib/constructs/lambda-function.js';
import { applicationAlarms } from '../../lib/constructs/monitoring.js';
import { assertVisibilityCoversConsumers } from '../../lib/constructs/queues.js';
import { synthesize, type Synthesized } from './synth.js';

let synth: Synthesized;
// Bundles every function (the billing-events function too) with esbuild: minutes on a busy machine.
beforeAll(() => {
  synth = synthesize();
}, 600_000);

const queueDefinitions = Object.values(queues);

/** Logical id of the L1 resource behind the construct at `path` (e.g. ['Api', 'MessagesApi', 'Function']). */
function logicalId(path: string[]): string {
  let construct: IConstruct = synth.stack;
  for (const id of path) construct = construct.node.findChild(id);
  return synth.stack.resolve((construct.node.defaultChild as CfnResource).logicalId) as string;
}

describe('data store', () => {
  it('is a pay-per-request table with PITR, KMS encryption, the gsi1 index and TTL, retained on delete', () => {
    synth.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        DeletionProtectionEnabled: true,
        KeySchema: [
          { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
          { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
        TimeToLiveSpecification: { AttributeName: tableDefinition.timeToLiveAttribute, Enabled: true },
        // Broadcast counters follow the messages' changes: old and new images.
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        GlobalSecondaryIndexes: tableDefinition.globalIndexes.map((index) => ({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: index.projection },
        })),
      },
    });
  });

  it('rotates every symmetric KMS key (KMS cannot rotate the HMAC cursor key)', () => {
    const keys = Object.values(synth.template.findResources('AWS::KMS::Key'));
    const symmetric = keys.filter((key) => (key.Properties.KeySpec ?? 'SYMMETRIC_DEFAULT') === 'SYMMETRIC_DEFAULT');
    expect(symmetric.length).toBeGreaterThanOrEqual(3); // table, credentials, alarm topic
    for (const key of symmetric) expect(key.Properties.EnableKeyRotation).toBe(true);
  });

  it('has an HMAC key for signing list cursors that functions may only GenerateMac with', () => {
    synth.template.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    const policies = Object.values(synth.template.findResources('AWS::IAM::Policy'));
    const cursorKey = logicalId(['Data', 'CursorKey']);
    const grants = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((st: any) => JSON.stringify(st.Resource).includes(cursorKey));
    expect(grants.length).toBeGreaterThan(0);
    for (const grant of grants) expect(grant.Action).toBe('kms:GenerateMac');
  });
});

describe.each(queueDefinitions)('queue $name', (definition) => {
  it("matches the catalog's visibility timeout and redrives to its DLQ after maxReceiveCount", () => {
    synth.template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: Match.stringLikeRegexp(`-${definition.name}$`),
      VisibilityTimeout: definition.visibilityTimeoutSeconds,
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(['Queues', dlqName(definition.name)]), 'Arn'] },
        maxReceiveCount: definition.maxReceiveCount,
      },
    });
  });

  it('has an encrypted DLQ that keeps messages for 14 days', () => {
    synth.template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: Match.stringLikeRegexp(`-${dlqName(definition.name)}$`),
      MessageRetentionPeriod: 14 * 24 * 3600,
      SqsManagedSseEnabled: true,
    });
  });
});

describe('queues', () => {
  it('deny non-TLS requests on every queue and DLQ', () => {
    const policies = synth.template.findResources('AWS::SQS::QueuePolicy', {
      Properties: {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      },
    });
    // Each catalog queue and its DLQ, each schedule's DLQ, each billing-event rule's DLQ and each stream function's DLQ.
    // ...and the DLQ of the app's own schedules (test/infra/app-schedules.test.ts).
    expect(Object.keys(policies)).toHaveLength(queueDefinitions.length * 2 + scheduledFunctions.length + eventFunctions.length + streamFunctions.length + 1);
  });

  it('refuse a visibility timeout below 6 x the consumer timeout at synth', () => {
    const tooShort = { ...queues['send-sms'], visibilityTimeoutSeconds: 179 };
    expect(() => assertVisibilityCoversConsumers(tooShort, workerFunctions)).toThrow(/6 x SendSmsWorker/);
  });
});

describe('functions', () => {
  const all = [
    ...httpFunctions.map((spec) => ({ spec, path: ['Api', spec.id] })),
    ...workerFunctions.map((spec) => ({ spec, path: ['Workers', spec.id] })),
    ...scheduledFunctions.map((spec) => ({ spec, path: ['Schedules', spec.id] })),
    ...eventFunctions.map((spec) => ({ spec, path: ['BillingEvents', spec.id] })),
    ...streamFunctions.map((spec) => ({ spec, path: ['Streams', spec.id] })),
  ];

  it('exist once per catalog entry and nothing else', () => {
    // Besides them: CDK's BucketDeployment handler, which uploads the admin console during a deployment.
    const deployHandlers = Object.keys(synth.template.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('CustomCDKBucketDeployment'));
    expect(deployHandlers).toHaveLength(1);
    synth.template.resourceCountIs('AWS::Lambda::Function', all.length + deployHandlers.length);
  });

  it.each(all)('$spec.id is arm64 on the pinned runtime, traced, with its own 30-day log group', ({ spec, path }) => {
    const fn = synth.template.toJSON().Resources[logicalId([...path, 'Function'])];
    expect(fn.Properties).toMatchObject({
      Architectures: ['arm64'],
      Runtime: runtime.name,
      MemorySize: (spec as { memoryMb?: number }).memoryMb ?? DEFAULT_MEMORY_MB,
      Timeout: spec.timeoutSeconds,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: { Ref: logicalId([...path, 'Logs']) } },
    });
    expect(synth.template.toJSON().Resources[logicalId([...path, 'Logs'])].Properties.RetentionInDays).toBe(30);
  });

  it.each(all)('$spec.id gets the env shared/config.ts reads, including its queue URLs', ({ spec, path }) => {
    const env = synth.template.toJSON().Resources[logicalId([...path, 'Function'])].Properties.Environment.Variables;
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining(['TABLE_NAME', 'CREDENTIALS_KMS_KEY_ID', 'CURSOR_MAC_KEY_ID', 'PUBLIC_BASE_URL', 'NODE_OPTIONS', 'POWERTOOLS_SERVICE_NAME']),
    );
    expect(env.PUBLIC_BASE_URL).toEqual({ 'Fn::GetAtt': [logicalId(['Api', 'Api']), 'ApiEndpoint'] });
    for (const name of spec.needsQueue ?? []) {
      expect(env[queues[name].urlEnv]).toEqual({ Ref: logicalId(['Queues', name]) });
    }
  });

  it.each(workerFunctions)('$id consumes its queue in batches and reports partial failures', (spec) => {
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(['Workers', spec.id, 'Function']) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(['Queues', spec.queue]), 'Arn'] },
      BatchSize: spec.batchSize,
      MaximumBatchingWindowInSeconds: spec.batchingWindowSeconds ?? 1,
      ScalingConfig: { MaximumConcurrency: spec.maxConcurrency },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});

describe('http api', () => {
  const routeKeys = httpFunctions.flatMap((spec) => spec.routes);

  it.each(routeKeys)('routes %s', (routeKey) => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey });
  });

  it('has exactly the catalog routes', () => {
    synth.template.resourceCountIs('AWS::ApiGatewayV2::Route', routeKeys.length);
  });

  it('logs access and throttles on the auto-deployed $default stage', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('\\$context.requestId') },
      DefaultRouteSettings: { ThrottlingBurstLimit: DEFAULT_ROUTE_THROTTLE.burstLimit, ThrottlingRateLimit: DEFAULT_ROUTE_THROTTLE.rateLimit },
    });
  });

  it("gives providers' delivery receipts their own route limits, apart from tenants' API calls", () => {
    const webhook = httpFunctions.find((spec) => spec.id === 'Webhooks')!;
    const stage = Object.values(synth.template.findResources('AWS::ApiGatewayV2::Stage'))[0]!;
    for (const routeKey of webhook.routes) {
      expect(stage.Properties.RouteSettings[routeKey]).toEqual({ ThrottlingBurstLimit: webhook.throttle!.burstLimit, ThrottlingRateLimit: webhook.throttle!.rateLimit });
    }
    expect(webhook.throttle!.rateLimit).toBeGreaterThan(DEFAULT_ROUTE_THROTTLE.rateLimit);
  });

  it('outputs the API URL', () => {
    synth.template.hasOutput('ApiUrl', {});
  });

  it('rejects malformed route keys', () => {
    expect(parseRouteKey('GET /v1/customers/{id}')).toEqual({ method: 'GET', path: '/v1/customers/{id}' });
    expect(() => parseRouteKey('/v1/customers')).toThrow(/METHOD \/path/);
    expect(() => parseRouteKey('FETCH /v1/customers')).toThrow(/METHOD \/path/);
  });
});

describe('webhooks function URL', () => {
  const webhooks = httpFunctions.find((spec) => spec.functionUrl)!;
  const functionUrl = () => ({ 'Fn::GetAtt': [logicalId(['Api', webhooks.id, 'Function', 'FunctionUrl']), 'FunctionUrl'] });
  const envOf = (path: string[]) => synth.template.toJSON().Resources[logicalId([...path, 'Function'])].Properties.Environment.Variables;

  it('is the Webhooks function\'s, and the only one', () => {
    expect(httpFunctions.filter((spec) => spec.functionUrl).map((spec) => spec.id)).toEqual(['Webhooks']);
    synth.template.resourceCountIs('AWS::Lambda::Url', 1);
  });

  it('lets providers call it without AWS credentials (their signatures are checked in the handler), buffered', () => {
    synth.template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      InvokeMode: 'BUFFERED',
      TargetFunctionArn: { 'Fn::GetAtt': [logicalId(['Api', webhooks.id, 'Function']), 'Arn'] },
    });
    synth.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl',
      FunctionName: { 'Fn::GetAtt': [logicalId(['Api', webhooks.id, 'Function']), 'Arn'] },
      FunctionUrlAuthType: 'NONE',
      Principal: '*',
    });
  });

  it('keeps the API Gateway webhook routes for gateways configured with them', () => {
    for (const routeKey of webhooks.routes) synth.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey });
  });

  it.each(workerFunctions)('is $id\'s WEBHOOK_BASE_URL (the status callback URL given to providers)', (spec) => {
    expect(envOf(['Workers', spec.id]).WEBHOOK_BASE_URL).toEqual(functionUrl());
  });

  it('is WEBHOOK_BASE_URL of every other function too (gateways\' webhookUrl, payment notifyUrl), not of its own (a cycle)', () => {
    const others = [
      ...httpFunctions.filter((spec) => spec !== webhooks).map((spec) => ['Api', spec.id]),
      ...scheduledFunctions.map((spec) => ['Schedules', spec.id]),
      ...eventFunctions.map((spec) => ['BillingEvents', spec.id]),
      ...streamFunctions.map((spec) => ['Streams', spec.id]),
    ];
    for (const path of others) expect(envOf(path).WEBHOOK_BASE_URL, path.join('/')).toEqual(functionUrl());
    expect(envOf(['Api', webhooks.id])).not.toHaveProperty('WEBHOOK_BASE_URL');
  });

  it('is a stack output', () => {
    synth.template.hasOutput('WebhookBaseUrl', { Value: functionUrl() });
  });
});

describe('monitoring', () => {
  it('alarms on the application metrics that need a person: unknown send outcomes and forged receipts', () => {
    for (const metricName of Object.keys(applicationAlarms)) {
      synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'ispnotify',
        MetricName: metricName,
        Dimensions: [{ Name: 'service', Value: 'ispnotify' }],
        Statistic: 'Sum',
        Threshold: 1,
      });
    }
  });

  it('alarms once per DLQ on any visible message, notifying an encrypted topic', () => {
    // + 1: the DLQ of the app's own schedules.
    synth.template.resourceCountIs(
      'AWS::CloudWatch::Alarm',
      queueDefinitions.length + scheduledFunctions.length + eventFunctions.length + streamFunctions.length + 1 + Object.keys(applicationAlarms).length,
    );
    const topic = logicalId(['Monitoring', 'AlarmTopic']);
    for (const definition of queueDefinitions) {
      synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(['Queues', dlqName(definition.name)]), 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        Period: 300,
        AlarmActions: [{ Ref: topic }],
      });
    }
    synth.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    synth.template.hasOutput('AlarmTopicArn', { Value: { Ref: topic } });
  });
});

describe('schedules', () => {
  it.each(scheduledFunctions)('$id runs on EventBridge Scheduler at its catalog rate, with retries and a dead-letter queue', (spec) => {
    synth.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: spec.schedule,
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [logicalId(['Schedules', spec.id, 'Function']), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: Match.anyValue() },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(['Schedules', `${spec.id}-dlq`]), 'Arn'] } },
      },
    });
  });
});

describe('billing events', () => {
  it('has a dedicated billing bus, named in an output', () => {
    synth.template.hasResourceProperties('AWS::Events::EventBus', { Name: 'IspNotifyStack-billing' });
    synth.template.hasOutput('BillingEventBusName', {});
  });

  it.each(eventFunctions)('$id gets its source\'s events from the billing bus, with a retry policy and a dead-letter queue', (spec) => {
    const dlq = { 'Fn::GetAtt': [logicalId(['BillingEvents', `${spec.id}-dlq`]), 'Arn'] };
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: logicalId(['BillingEvents', 'Bus']) },
      EventPattern: { source: [spec.source] },
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(['BillingEvents', spec.id, 'Function']), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 24 * 3600 },
          DeadLetterConfig: { Arn: dlq },
        }),
      ],
    });
    // The handler's own failures: Lambda's asynchronous retries, then the same DLQ.
    synth.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(['BillingEvents', spec.id, 'Function']) },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: dlq } },
    });
    synth.template.hasResourceProperties('AWS::SQS::Queue', { QueueName: Match.stringLikeRegexp(`-events-${spec.id}-dlq$`), MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true });
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(['BillingEvents', `${spec.id}-dlq`]), 'QueueName'] } }],
    });
  });
});

describe('table stream consumers', () => {
  it.each(streamFunctions)('$id reads the table\'s stream from its oldest record (TRIM_HORIZON), in filtered batches, bisecting a failed one, then its DLQ', (spec) => {
    const dlq = { 'Fn::GetAtt': [logicalId(['Streams', `${spec.id}-dlq`]), 'Arn'] };
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(['Streams', spec.id, 'Function']) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(['Data', 'Table']), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: spec.batchSize,
      MaximumBatchingWindowInSeconds: spec.batchingWindowSeconds,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: spec.retryAttempts,
      // Its events name their shard (the handler's idempotency is per shard).
      TumblingWindowInSeconds: 900,
      DestinationConfig: { OnFailure: { Destination: dlq } },
      // Only message items of a broadcast reach it: filtered-out records cost nothing.
      FilterCriteria: {
        Filters: [{ Pattern: JSON.stringify({ dynamodb: { NewImage: { entity: { S: [spec.newImage.entity] }, [spec.newImage.withAttribute]: { S: [{ exists: true }] } } } }) }],
      },
    });
    expect(spec).toMatchObject({ batchSize: 1000, batchingWindowSeconds: 2 });
    synth.template.hasResourceProperties('AWS::SQS::Queue', { QueueName: Match.stringLikeRegexp(`-streams-${spec.id}-dlq$`), MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true });
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(['Streams', `${spec.id}-dlq`]), 'QueueName'] } }],
      AlarmActions: [{ Ref: logicalId(['Monitoring', 'AlarmTopic']) }],
    });
  });

  it('are the only readers of the table\'s stream', () => {
    synth.template.resourceCountIs('AWS::Lambda::EventSourceMapping', workerFunctions.length + streamFunctions.length);
    // Only their roles are granted anything on the stream's ARN.
    const readers = Object.values(synth.template.findResources('AWS::IAM::Policy')).filter((policy) =>
      policy.Properties.PolicyDocument.Statement.some((st: any) => JSON.stringify(st.Resource).includes('"StreamArn"')),
    );
    expect(readers).toHaveLength(streamFunctions.length);
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('reports no unacknowledged findings', () => {
    // cdk-nag 3 reports through CDK policy validation, not annotations: check the report cdk synth fails on...
    const findings = synth.validationReport.pluginReports.flatMap((report) => report.violations.map((v) => v.ruleName));
    expect(findings).toEqual([]);
    // ...and run the pack directly, so an unregistered plugin cannot make the check above pass vacuously.
    const direct = new AwsSolutionsChecks().validateScope(synth.app);
    expect(direct.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath)}`)).toEqual([]);
  });

  it('leaves no error annotations on the stack', () => {
    expect(Annotations.fromStack(synth.stack).findError('*', Match.anyValue())).toEqual([]);
  });

  it('gives every acknowledgement a written reason', () => {
    const acknowledgements = synth.app.node
      .findAll()
      .flatMap((construct) => construct.node.metadata)
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>));
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledgements) {
      // Besides cdk-nag's: the one aws-cdk-lib makes itself for the access-log bucket CloudFront logging needs (ACLs).
      expect(id).toMatch(/AwsSolutions-|^CloudFormation-Validate::W3045$/);
      expect(reason.trim().length, id).toBeGreaterThan(20);
    }
  });
});

describe('admin console', () => {
  it('keeps the console in a private, encrypted, TLS-only bucket', () => {
    synth.template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 's3/' }),
    });
    synth.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(['Console', 'Bucket']) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          // Read by this CloudFront distribution only (origin access control).
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject' }),
        ]),
      },
    });
  });

  it('serves it through CloudFront with origin access control, HTTPS only, security headers and the SPA fallback', () => {
    synth.template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    synth.template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'console/index.html',
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'https-only', ResponseHeadersPolicyId: { Ref: logicalId(['Console', 'SecurityHeaders']) } }),
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue() })],
        CustomErrorResponses: Match.arrayWith([Match.objectLike({ ErrorCode: 403, ResponseCode: 200, ResponsePagePath: '/console/index.html' })]),
        Logging: Match.anyValue(),
      }),
    });
    synth.template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          StrictTransportSecurity: Match.objectLike({ Override: true }),
          ContentTypeOptions: { Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ContentSecurityPolicy: Match.objectLike({ ContentSecurityPolicy: Match.stringLikeRegexp("default-src 'self'") }),
        }),
      }),
    });
    synth.template.hasOutput('ConsoleUrl', {});
  });

  it('lets the API be called from the console\'s origin only (CORS)', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({
        AllowOrigins: [{ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalId(['Console', 'Distribution']), 'DomainName'] }]] }],
        AllowHeaders: Match.arrayWith(['authorization', 'content-type']),
      }),
    });
  });

  it('deploys the build with a config.json naming the API, under console/', () => {
    synth.template.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketName: { Ref: logicalId(['Console', 'Bucket']) },
      DestinationBucketKeyPrefix: 'console/',
      DistributionPaths: ['/console/*'],
    });
  });
});
