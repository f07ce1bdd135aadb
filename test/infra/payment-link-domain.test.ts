import type { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { paymentLinkBaseUrl } from '../../lib/payment-link-domain.js';
import { httpFunctions, scheduledFunctions, workerFunctions } from '../../shared/catalog.js';
import { synthesize, type Synthesized } from './synth.js';

// As `cdk synth -c paymentLinkDomain=pay.example.net` passes it. No stack is bundled (as in `cdk ls`):
// only the functions' environment is under test here, and stack.test.ts bundles them already.
let synth: Synthesized;
beforeAll(() => {
  synth = synthesize({ paymentLinkDomain: 'pay.example.net', 'aws:cdk:bundling-stacks': [] });
}, 120_000);

function environmentOf(path: string[]): Record<string, unknown> {
  let construct: IConstruct = synth.stack;
  for (const id of [...path, 'Function']) construct = construct.node.findChild(id);
  const logicalId = synth.stack.resolve((construct.node.defaultChild as CfnResource).logicalId) as string;
  return synth.template.toJSON().Resources[logicalId].Properties.Environment.Variables;
}

describe('the paymentLinkDomain context', () => {
  it('is a bare domain name, made the https base of payment links', () => {
    expect(paymentLinkBaseUrl(undefined)).toBeUndefined();
    expect(paymentLinkBaseUrl('')).toBeUndefined();
    expect(paymentLinkBaseUrl('pay.example.net')).toBe('https://pay.example.net');
    expect(paymentLinkBaseUrl('Pay.Example.NET.')).toBe('https://pay.example.net');
    for (const bad of ['https://pay.example.net', 'pay.example.net/p', 'pay.example.net:8443', 'localhost', 'pay..example.net', 42]) {
      expect(() => paymentLinkBaseUrl(bad), String(bad)).toThrow(/paymentLinkDomain/);
    }
  });

  it('sets PAYMENT_LINK_BASE_URL on every function, beside PUBLIC_BASE_URL', () => {
    const paths = [
      ...httpFunctions.map((spec) => ['Api', spec.id]),
      ...workerFunctions.map((spec) => ['Workers', spec.id]),
      ...scheduledFunctions.map((spec) => ['Schedules', spec.id]),
    ];
    expect(paths.some(([, id]) => id === 'PaymentLinks')).toBe(true);
    for (const path of paths) {
      const env = environmentOf(path);
      expect(env.PAYMENT_LINK_BASE_URL, path.join('/')).toBe('https://pay.example.net');
      expect(env.PUBLIC_BASE_URL).toBeDefined();
    }
  });

  it('serves GET /p/{token} from the PaymentLinks function', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'GET /p/{token}' });
  });
});
