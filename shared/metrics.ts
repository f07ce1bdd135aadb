import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * CloudWatch metrics in Embedded Metric Format (one log line per invocation, no API calls).
 * The local runtime sets POWERTOOLS_METRICS_DISABLED so a laptop's console stays readable.
 */
export const metrics = new Metrics({ namespace: 'ispnotify', serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'ispnotify' });
