/** The suppression list: addresses and numbers the operator must not message (bounces, complaints, STOP). */
import { notFound } from '../domain/errors.js';
import { normalizeMobile } from '../domain/phone.js';
import type { Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';

/** An email address (contains @) or a number (read in the operator's country, like a send's `mobile`). */
export async function deleteSuppression(d: Pick<Deps, 'suppressions'>, operator: Operator, address: string): Promise<void> {
  const isEmail = address.includes('@');
  const normalized = isEmail ? address.toLowerCase() : normalizeMobile(address, operator.defaultCountry, 'address');
  if (!(await d.suppressions.delete(operator.id, isEmail ? 'email' : 'phone', normalized))) throw notFound(`Suppression of "${normalized}"`);
}
