import { createHash, randomBytes } from 'node:crypto';

const PREFIX = 'isk_';

/** A new API key: shown once, stored only as its hash. */
export function generateApiKey(): string {
  return PREFIX + randomBytes(24).toString('base64url');
}

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(PREFIX) && value.length >= PREFIX.length + 16 && value.length <= 200;
}
