/**
 * Where provider adapters send their requests. Calls made on a tenant's behalf go to the provider's
 * official https host, never to a URL a tenant chose (a tenant-supplied base URL would let any
 * operator make the sender post the gateway's credentials to an internal service and copy its
 * reply into the message history).
 *
 * Tests and staging point a provider elsewhere through the deployment's environment, one variable
 * per provider: ISPNOTIFY_BASE_URL_<PROVIDER> (e.g. ISPNOTIFY_BASE_URL_TWILIO=http://127.0.0.1:4010).
 * `npm start` reads it from its own environment; the CDK stack passes every such variable on to
 * the Lambdas (see providerBaseUrlOverrides).
 */

export const BASE_URL_VARIABLE_PREFIX = 'ISPNOTIFY_BASE_URL_';

/** The environment variable that overrides a provider's base URL: ISPNOTIFY_BASE_URL_TWILIO for "twilio". */
export function providerBaseUrlVariable(providerId: string): string {
  return BASE_URL_VARIABLE_PREFIX + providerId.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/**
 * Checks an override and returns it without trailing slashes. A bad value is a deployment
 * misconfiguration, so it throws (naming the variable, not repeating anything after the host).
 */
function validOverride(variable: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${variable} must be an http(s) URL such as http://127.0.0.1:4010; it is not a URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${variable} must be an http(s) URL such as http://127.0.0.1:4010, not a ${url.protocol} URL.`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error(`${variable} must not carry credentials; the adapter sends the gateway's own.`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new Error(`${variable} must be a base URL without a query string or fragment (${url.host}).`);
  }
  return value.replace(/\/+$/, '');
}

/**
 * The base URL to call a provider at: the deployment's ISPNOTIFY_BASE_URL_<PROVIDER> when set
 * (read at call time, so a test can set it), otherwise `officialUrl`. An empty variable counts as
 * unset. Throws when the variable is set to something that is not an http(s) base URL.
 */
export function providerBaseUrl(providerId: string, officialUrl: string): string {
  const variable = providerBaseUrlVariable(providerId);
  const value = process.env[variable]?.trim();
  if (!value) return officialUrl.replace(/\/+$/, '');
  return validOverride(variable, value);
}

/**
 * Every ISPNOTIFY_BASE_URL_* variable in `env`, checked and without trailing slashes, for passing
 * on to the Lambdas. Empty variables are left out; an invalid one throws, so a misconfigured
 * deployment fails when it is built rather than on the first send.
 */
export function providerBaseUrlOverrides(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(BASE_URL_VARIABLE_PREFIX) || name === BASE_URL_VARIABLE_PREFIX) continue;
    const value = raw?.trim();
    if (!value) continue;
    overrides[name] = validOverride(name, value);
  }
  return overrides;
}
