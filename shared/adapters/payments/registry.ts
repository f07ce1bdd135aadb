/**
 * The platform's payment providers by id. Each is configured from the deployment's environment and
 * is undefined when its credentials are not set there.
 */
import type { PaymentProvider } from '../../ports.js';
import { sslcommerzPayments } from './sslcommerz.js';
import { stripePayments } from './stripe.js';

export const PAYMENT_PROVIDER_IDS = ['stripe', 'sslcommerz'] as const satisfies readonly PaymentProvider['id'][];

const factories: Record<PaymentProvider['id'], (env: NodeJS.ProcessEnv) => PaymentProvider | undefined> = {
  stripe: stripePayments,
  sslcommerz: sslcommerzPayments,
};

/** The payment provider `id` ("stripe", "sslcommerz") configured from `env`, or undefined (unknown id, or not configured). */
export function paymentProvider(id: string, env: NodeJS.ProcessEnv = process.env): PaymentProvider | undefined {
  return Object.hasOwn(factories, id) ? factories[id as PaymentProvider['id']](env) : undefined;
}
