import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { FunctionUrlAuthType, InvokeMode } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { HttpFunction } from '../../shared/catalog.js';
import { AppFunction, type FunctionWiring } from './lambda-function.js';

export interface HttpApiProps {
  functions: readonly HttpFunction[];
  /** Everything but the base URLs, which this construct creates. */
  wiring: Omit<FunctionWiring, 'publicBaseUrl' | 'webhookBaseUrl'>;
  /** Browser origins allowed by CORS (the admin console's); none: no CORS. */
  corsOrigins?: string[];
}

/** The public HTTP API: one Lambda per catalog entry, one route per route key. */
export class HttpApi extends Construct {
  readonly api: apigw.HttpApi;
  /** https://<id>.execute-api.<region>.amazonaws.com, without a trailing slash. */
  readonly publicBaseUrl: string;
  /**
   * The Lambda function URL of the catalog's `functionUrl` entry (the webhooks), https://<id>.lambda-url.<region>.on.aws/
   * (with a trailing slash: shared/deps.ts drops it); undefined when no entry has one.
   */
  readonly webhookBaseUrl: string | undefined;

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);

    // The default stage is created explicitly so it can carry access logs and throttling.
    this.api = new apigw.HttpApi(this, 'Api', {
      apiName: 'ispnotify',
      createDefaultStage: false,
      ...(props.corsOrigins?.length
        ? {
            corsPreflight: {
              allowOrigins: props.corsOrigins,
              allowMethods: [apigw.CorsHttpMethod.ANY],
              allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
              exposeHeaders: ['location', 'retry-after'],
              maxAge: Duration.hours(1),
            },
          }
        : {}),
    });
    this.publicBaseUrl = this.api.apiEndpoint;
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH });
    const stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      // A ceiling per route for the whole deployment; per-operator limits are enforced in the app
      // (GET/PATCH /v1/settings: requests per second and messages per day).
      throttle: DEFAULT_ROUTE_THROTTLE,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: accessLogFormat,
      },
    });

    // Routes with limits of their own (providers' receipts): one tenant's burst of API calls never starves them.
    const routeSettings = Object.fromEntries(
      props.functions.flatMap((spec) =>
        spec.throttle ? spec.routes.map((routeKey) => [routeKey, { ThrottlingBurstLimit: spec.throttle!.burstLimit, ThrottlingRateLimit: spec.throttle!.rateLimit }]) : [],
      ),
    );
    if (Object.keys(routeSettings).length > 0) (stage.node.defaultChild as apigw.CfnStage).addPropertyOverride('RouteSettings', routeSettings);

    const withUrl = props.functions.filter((spec) => spec.functionUrl);
    if (withUrl.length > 1) throw new Error(`Only one function may have a function URL (WEBHOOK_BASE_URL), not ${withUrl.map((spec) => spec.id).join(', ')}.`);
    const wiring: FunctionWiring = { ...props.wiring, publicBaseUrl: this.publicBaseUrl };
    // The function with the URL first, so the others can be given it.
    for (const spec of [...withUrl, ...props.functions.filter((spec) => !spec.functionUrl)]) {
      const { fn } = new AppFunction(this, spec.id, { ...spec, wiring: spec.functionUrl ? wiring : { ...wiring, webhookBaseUrl: this.webhookBaseUrl } });
      if (spec.functionUrl) {
        // No per-request charge, unlike API Gateway. Unauthenticated because providers cannot sign with AWS
        // credentials; every POST is verified with the gateway's own secret (shared/services/record-receipt.ts).
        // No API Gateway throttle either: Lambda's concurrency is the limit.
        const url = fn.addFunctionUrl({ authType: FunctionUrlAuthType.NONE, invokeMode: InvokeMode.BUFFERED });
        this.webhookBaseUrl = url.url;
        new CfnOutput(Stack.of(this), 'WebhookBaseUrl', {
          value: url.url,
          description: `Base URL of provider webhooks (${spec.id}'s Lambda function URL): <base>webhooks/<channel>/<provider>/<gatewayId>`,
        });
      }
      const integration = new HttpLambdaIntegration(`${spec.id}Integration`, fn);
      for (const routeKey of spec.routes) {
        const { method, path } = parseRouteKey(routeKey);
        this.api.addRoutes({ path, methods: [method], integration });
      }
    }

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'The API authenticates bearer keys itself inside the handlers (keys are hashed in DynamoDB and scoped to one ' +
        'operator); webhooks verify provider signatures; /health and /openapi.json are public.',
    });

    // On the stack itself so the output is named exactly ApiUrl.
    new CfnOutput(Stack.of(this), 'ApiUrl', { value: stage.url, description: 'Base URL of the ispnotify HTTP API' });
  }
}

export const DEFAULT_ROUTE_THROTTLE = { burstLimit: 400, rateLimit: 200 };

/** One JSON line per request, using HTTP API context variables (no headers, so no bearer keys in logs). */
const accessLogFormat = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    ip: '$context.identity.sourceIp',
    requestTime: '$context.requestTime',
    routeKey: '$context.routeKey',
    path: '$context.path',
    status: '$context.status',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    userAgent: '$context.identity.userAgent',
  }),
);

/** "POST /v1/messages" -> { method: POST, path: /v1/messages }. */
export function parseRouteKey(routeKey: string): { method: apigw.HttpMethod; path: string } {
  const match = /^([A-Z]+) (\/\S*)$/.exec(routeKey);
  const method = match?.[1] as apigw.HttpMethod | undefined;
  if (!match || !method || !Object.values(apigw.HttpMethod).includes(method)) {
    throw new Error(`Invalid route key "${routeKey}": expected "METHOD /path".`);
  }
  return { method, path: match[2]! };
}
