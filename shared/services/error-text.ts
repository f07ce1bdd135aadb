import { safeExcerpt } from '../adapters/outbound/excerpt.js';

/**
 * Reasons stored in a message's history are shown to operators and come partly from providers'
 * replies: the one excerpt rule (short, one line, no control characters or markup), a little longer
 * than a quoted reply since our own words come first.
 */
const MAX_REASON = 300;

export function safeReason(error: unknown): string {
  return safeExcerpt(error instanceof Error ? error.message : String(error), MAX_REASON) || 'unknown error';
}
