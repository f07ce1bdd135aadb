/**
 * A broadcast message's id is a function of (broadcast, recipient), so a page expanded twice (a
 * redelivery, a worker that died halfway) finds the messages it already wrote instead of writing
 * new ones. It keeps the ULID shape: the broadcast's 10-character time prefix, shared by all its
 * messages (the history lists them with a Query on that key prefix), then 16 characters (80 bits)
 * of a hash of the broadcast and the recipient.
 */
import { createHash } from 'node:crypto';
import { encodeTime } from 'ulid';

/** The 10-character time part of a ULID made at `at`: every message id of a broadcast starts with it. */
export const messagePrefixAt = (at: Date): string => encodeTime(at.getTime(), 10);

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function broadcastMessageId(messagePrefix: string, broadcastId: string, recipientKey: string): string {
  if (!/^[0-9A-HJKMNP-TV-Z]{10}$/.test(messagePrefix)) throw new RangeError(`"${messagePrefix}" is not a ULID time prefix.`);
  const digest = createHash('sha256').update(`${broadcastId}\u0000${recipientKey}`).digest();
  let suffix = '';
  // 16 characters of 5 bits from the first 10 bytes.
  let bits = 0;
  let value = 0;
  for (const byte of digest.subarray(0, 10)) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      suffix += CROCKFORD[(value >> bits) & 31];
    }
    value &= (1 << bits) - 1;
  }
  return messagePrefix + suffix;
}

/** The hold of a broadcast page's messages (one hold, one settlement per page); never a message id (they have no dot). */
export const pageHoldId = (broadcastId: string, page: number): string => `page.${broadcastId}.${page}`;
export const isPageHold = (holdId: string): boolean => holdId.startsWith('page.');
/** The page number of a page hold's id, or undefined for any other hold. */
export function pageOfHold(holdId: string): number | undefined {
  if (!isPageHold(holdId)) return undefined;
  const page = Number(holdId.slice(holdId.lastIndexOf('.') + 1));
  return Number.isInteger(page) && page >= 0 ? page : undefined;
}
