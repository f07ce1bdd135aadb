/** `-c paymentLinkDomain=pay.example.net`: payment links are `https://<domain>/p/<token>` (shorter SMS than the API's endpoint). */
export const PAYMENT_LINK_DOMAIN_CONTEXT = 'paymentLinkDomain';

/**
 * The base URL of payment links for the context value, or undefined when it is absent (links then use
 * the API's endpoint). A bare host name only: a scheme, path or port is refused rather than guessed.
 */
export function paymentLinkBaseUrl(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  const host = typeof value === 'string' ? value.trim().toLowerCase().replace(/\.$/, '') : '';
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(host)) {
    throw new Error(`Context ${PAYMENT_LINK_DOMAIN_CONTEXT} must be a domain name such as pay.example.net, got ${JSON.stringify(value)}.`);
  }
  return `https://${host}`;
}
