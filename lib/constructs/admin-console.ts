import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';

export interface AdminConsoleProps {
  /** console/dist; when it is not built, a page saying how to build it is deployed instead (synth never fails on it). */
  distDir: string;
}

/**
 * The admin console: a private S3 bucket read only by CloudFront (origin access control), HTTPS only,
 * with security headers; the app's routes fall back to index.html. `deploy(apiUrl)` uploads the
 * build with a config.json naming the API (the console reads it at start).
 */
export class AdminConsole extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** https://<id>.cloudfront.net: the one origin the API's CORS allows. */
  readonly origin: string;
  private readonly distDir: string;

  constructor(scope: Construct, id: string, props: AdminConsoleProps) {
    super(scope, id);
    this.distDir = props.distDir;
    const logs = new s3.Bucket(this, 'Logs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront standard logging writes with ACLs.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
    });
    Validations.of(logs).acknowledge({ id: 'AwsSolutions-S1', reason: 'This is the access-log bucket of the console bucket and distribution; it does not log itself.' });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 's3/',
    });
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      securityHeadersBehavior: {
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        // Scripts and styles from the console itself; data from the API (https) only.
        contentSecurityPolicy: {
          contentSecurityPolicy: "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' https:; frame-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
          override: true,
        },
      },
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'ispnotify admin console',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        responseHeadersPolicy: headers,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      },
      defaultRootObject: 'console/index.html',
      // The app's own routes (/console/history/...) are not objects: S3 answers 403 through OAC.
      errorResponses: [403, 404].map((httpStatus) => ({ httpStatus, responseHttpStatus: 200, responsePagePath: '/console/index.html', ttl: Duration.seconds(10) })),
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
    });
    this.origin = `https://${this.distribution.distributionDomainName}`;
    Validations.of(this.distribution).acknowledge(
      { id: 'AwsSolutions-CFR1', reason: 'No geo restriction: ISP staff sign in from wherever they are; the console holds no data, the API checks every key.' },
      { id: 'AwsSolutions-CFR2', reason: 'Static files only; the API behind it has its own throttling and per-operator limits. A WAF web ACL can be attached when needed.' },
      { id: 'AwsSolutions-CFR4', reason: 'The default *.cloudfront.net certificate cannot be held to TLS 1.2 by CloudFront; with a custom domain the distribution uses TLSv1.2_2021.' },
    );
    new CfnOutput(Stack.of(this), 'ConsoleUrl', { value: `${this.origin}/console/`, description: 'The admin console (sign in with an API key)' });
  }

  /** Uploads the build (under console/, as the app's base path says) and config.json naming the API. */
  deploy(apiUrl: string): void {
    const built = existsSync(join(this.distDir, 'index.html'));
    const sources = [
      built ? Source.asset(this.distDir) : Source.data('index.html', '<!doctype html><title>ispnotify</title><p>The console was not built: run <code>npm run build:console</code>, then deploy again.</p>'),
      Source.jsonData('config.json', { apiUrl }),
    ];
    const deployment = new BucketDeployment(this, 'Deploy', {
      sources,
      destinationBucket: this.bucket,
      destinationKeyPrefix: 'console/',
      distribution: this.distribution,
      distributionPaths: ['/console/*'],
    });
    // The deployment's handler is CDK's own (one per stack): what cdk-nag finds there, acknowledged on its role and function only.
    const handler = Stack.of(this).node.children.find((child) => child.node.id.startsWith('Custom::CDKBucketDeployment'));
    Validations.of(deployment.handlerRole).acknowledge(
      { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: 'CDK\'s BucketDeployment handler logs with the standard Lambda logging policy.' },
      ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: 'Generated by BucketDeployment: it reads the build from the CDK asset bucket and replaces the console files in this one bucket.',
      })),
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
        reason: 'Generated by BucketDeployment: the objects of the CDK bootstrap asset bucket it copies the build from.',
      },
      { id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).resolve((this.bucket.node.defaultChild as s3.CfnBucket).logicalId)}.Arn>/*]`, reason: 'Generated by BucketDeployment: the objects of the console bucket it writes.' },
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'Generated by BucketDeployment for the CloudFront invalidation after an upload: cloudfront:CreateInvalidation/GetInvalidation.' },
    );
    if (handler) Validations.of(handler).acknowledge({ id: 'AwsSolutions-L1', reason: 'The runtime of CDK\'s BucketDeployment handler is chosen by aws-cdk-lib (it runs only during deployments).' });
  }
}
