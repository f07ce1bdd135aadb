import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { HttpFunction } from '../../shared/catalog.js';
import { AppFunction, type FunctionWiring } from './lambda-function.js';

export interface HttpApiProps {
  functions: readonly HttpFunction[];
  /** Everything but the base URL, which this construct creates. */
  wiring: Omit<FunctionWiring, 'publicBaseUrl'>;
  /** Browser origins allowed by CORS (the admin console's); none: no CORS. */
  corsOrigins?: string[];
}

/** The public HTTP API: one Lambda per catalog entry, one route per route key. */
export class HttpApi extends Construct {
  readonly api: apigw.HttpApi;
  /** https://<id>.execute-api.<region>.amazonaws.com, without a trailing slash. */
  readonly publicBaseUrl: string;

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

    const wiring: FunctionWiring = { ...props.wiring, publicBaseUrl: this.publicBaseUrl };
    for (const spec of props.functions) {
      const { fn } = new AppFunction(this, spec.id, { ...spec, wiring });
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
