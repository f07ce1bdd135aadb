import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { type CfnResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_MEMORY_MB, queues as queueCatalog, type QueueName } from '../../shared/catalog.js';
import type { AppSchedules } from './app-schedules.js';
import type { EgressPlacement } from './egress.js';

export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The newest Node.js runtime aws-cdk-lib knows; pinned (not NODEJS_LATEST) so upgrades are deliberate. */
export const runtime = Runtime.NODEJS_24_X;
/** esbuild target for the runtime above, e.g. nodejs24.x -> node24. */
const esbuildTarget = runtime.name.replace(/^nodejs(\d+)\.x$/, 'node$1');

/** What every function is connected to; see shared/config.ts for the env vars handlers read. */
export interface FunctionWiring {
  table: ITable;
  credentialsKey: IKey;
  /** The KMS HMAC key whose MAC of a fixed message signs list cursors (shared/adapters/crypto/cursor-key.ts). */
  cursorKey: IKey;
  queues: Record<QueueName, IQueue>;
  /** The HTTP API's endpoint, used to build links (payment links, the console). */
  publicBaseUrl: string;
  /**
   * The webhooks function's Lambda function URL (lib/constructs/http-api.ts): the base of the callback URLs
   * given to providers. Absent for that function itself (its own URL in its env would be a cycle; it reads
   * the host each request came to) and where there is none: then callbacks use publicBaseUrl.
   */
  webhookBaseUrl?: string;
  /** https://<paymentLinkDomain> when that context is set (lib/payment-link-domain.ts): the base of payment links. */
  paymentLinkBaseUrl?: string;
  /** Present when the stack has a fixed egress address (lib/constructs/egress.ts): where provider-calling functions run. */
  egress?: EgressPlacement;
  /** The app's own schedules (lib/constructs/app-schedules.ts), for functions with needsScheduler. */
  appSchedules?: AppSchedules;
}

export interface AppFunctionProps {
  /** Path from the project root, as written in shared/catalog.ts. */
  entry: string;
  timeoutSeconds: number;
  needsQueue?: readonly QueueName[];
  /** Calls providers (catalog `callsProviders`): runs in the egress VPC when the wiring has one. */
  callsProviders?: boolean;
  /** Manages schedules (catalog `needsScheduler`): grants on the app's schedule group and the scheduler env. */
  needsScheduler?: boolean;
  /** Catalog `memoryMb`, default DEFAULT_MEMORY_MB. */
  memoryMb?: number;
  wiring: FunctionWiring;
}

/** A bundled Node.js Lambda with its own log group, env and grants: the one way functions are built. */
export class AppFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);
    const { wiring } = props;

    const logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH });
    const placement = props.callsProviders ? wiring.egress : undefined;
    const queueEnv = Object.fromEntries(
      (props.needsQueue ?? []).map((name) => [queueCatalog[name].urlEnv, wiring.queues[name].queueUrl]),
    );

    this.fn = new NodejsFunction(this, 'Function', {
      entry: path.join(projectRoot, props.entry),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      runtime,
      architecture: Architecture.ARM_64,
      memorySize: props.memoryMb ?? DEFAULT_MEMORY_MB,
      timeout: Duration.seconds(props.timeoutSeconds),
      tracing: Tracing.ACTIVE,
      logGroup,
      // In the VPC, calls leave through the NAT's one Elastic IP; without it, from Lambda's shared addresses.
      ...placement,
      bundling: {
        format: OutputFormat.ESM,
        target: esbuildTarget,
        minify: true,
        sourceMap: true,
        // Prefer ES module builds so esbuild can tree-shake the AWS SDK and Powertools.
        mainFields: ['module', 'main'],
        // Some CommonJS dependencies call require(); ESM bundles have no require unless we define one.
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        // Ship the SDK versions the tests ran against instead of whatever the runtime bundles.
        bundleAwsSDK: true,
        // No Docker in CI or on laptops: bundle with the locally installed esbuild.
        forceDockerBundling: false,
      },
      environment: {
        TABLE_NAME: wiring.table.tableName,
        CREDENTIALS_KMS_KEY_ID: wiring.credentialsKey.keyArn,
        PUBLIC_BASE_URL: wiring.publicBaseUrl,
        ...(wiring.webhookBaseUrl ? { WEBHOOK_BASE_URL: wiring.webhookBaseUrl } : {}),
        ...(wiring.paymentLinkBaseUrl ? { PAYMENT_LINK_BASE_URL: wiring.paymentLinkBaseUrl } : {}),
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'ispnotify',
        CURSOR_MAC_KEY_ID: wiring.cursorKey.keyArn,
        ...queueEnv,
        ...deploymentOverrides(),
      },
    });

    wiring.table.grantReadWriteData(this.fn);
    // Only the two calls shared/adapters/crypto/kms-cipher.ts makes.
    wiring.credentialsKey.grant(this.fn, 'kms:Encrypt', 'kms:Decrypt');
    wiring.cursorKey.grant(this.fn, 'kms:GenerateMac');
    for (const name of props.needsQueue ?? []) wiring.queues[name].grantSendMessages(this.fn);
    if (props.needsScheduler) {
      if (!wiring.appSchedules) throw new Error(`${id} has needsScheduler, but the stack wires no AppSchedules.`);
      wiring.appSchedules.grantManage(this.fn);
    }
    acknowledgeGeneratedPolicyFindings(this, wiring.table);
    if (placement) {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          'Added by CDK for a function in a VPC: AWSLambdaVPCAccessExecutionRole only lets Lambda create, describe and ' +
          'delete the network interfaces it attaches the function with (and write logs); those EC2 actions do not ' +
          'support resource-level scoping.',
      });
    }
  }
}

/**
 * Deployment-level switches for staging and tests, taken from the environment `cdk synth` runs in
 * (never from a tenant): provider base-URL overrides (ISPNOTIFY_BASE_URL_<PROVIDER>) and
 * ISPNOTIFY_ALLOW_PRIVATE_URLS. Absent in a normal production deployment.
 */
function deploymentOverrides(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string' && (/^ISPNOTIFY_BASE_URL_[A-Z0-9_]+$/.test(entry[0]) || entry[0] === 'ISPNOTIFY_ALLOW_PRIVATE_URLS'),
    ),
  );
}

/** cdk-nag findings on the policies CDK generates for every function, each with the reason it is acceptable. */
function acknowledgeGeneratedPolicyFindings(fn: Construct, table: ITable): void {
  const tableResource = table.node.defaultChild as CfnResource;
  const tableLogicalId = Stack.of(tableResource).resolve(tableResource.logicalId) as string;
  Validations.of(fn).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'AWSLambdaBasicExecutionRole only grants logs:CreateLogStream/PutLogEvents (and CreateLogGroup); it is the ' +
        'standard Lambda logging policy and the function writes to its own explicit log group.',
    },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Added by Tracing.ACTIVE: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::<${tableLogicalId}.Arn>/index/*]`,
      reason: 'Generated by table.grantReadWriteData: covers the indexes of this one table only (gsi1 queries).',
    },
    {
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        'Generated by table.grantReadWriteData on the table encryption key: DynamoDB needs GenerateDataKey* to write ' +
        'encrypted items; scoped to that single key.',
    },
    {
      id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
      reason:
        'Generated by table.grantReadWriteData on the table encryption key, scoped to that single key; DynamoDB uses it ' +
        'when the key material rotates.',
    },
  );
}
