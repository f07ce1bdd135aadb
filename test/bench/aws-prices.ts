/**
 * Published AWS prices, US East (N. Virginia), on-demand, in US dollars, as marginal rates: free tiers
 * and volume discounts are left out (they lower a large ISP's bill a little, never raise it).
 * Looked up on 2026-11-28 from the pages named below; check them again before quoting a figure.
 */
export const AWS_PRICES_DATE = '2026-11-28';
export const AWS_PRICES_REGION = 'us-east-1';

const MILLION = 1_000_000;

export const awsPrices = {
  dynamodb: {
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    /** A write request unit writes up to 1 KB (transactional: 2 units per KB); $0.625 per million since 2024-11-01. */
    writeRequestUnit: 0.625 / MILLION,
    /** A read request unit reads up to 4 KB strongly consistent (eventually consistent: half; transactional: 2); $0.125 per million. */
    readRequestUnit: 0.125 / MILLION,
  },
  sqs: {
    source: 'https://aws.amazon.com/sqs/pricing/',
    /** Standard queue, first 100 billion requests a month; each 64 KB chunk of a request's payload is billed as one request. */
    request: 0.4 / MILLION,
    chunkBytes: 64 * 1024,
  },
  lambda: {
    source: 'https://aws.amazon.com/lambda/pricing/',
    request: 0.2 / MILLION,
    /** Arm (arm64), first 7.5 billion GB-seconds a month; duration is billed per millisecond. */
    gbSecondArm64: 0.0000133334,
  },
  apiGateway: {
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    /** HTTP API, first 300 million requests a month, metered in 512 KB increments. */
    httpApiRequest: 1.0 / MILLION,
  },
  scheduler: {
    source: 'https://aws.amazon.com/eventbridge/pricing/',
    /** EventBridge Scheduler invocations after the 14 million a month free. */
    invocation: 1.0 / MILLION,
  },
} as const;
