/**
 * Reasons stored in a message's history are shown to operators and come partly from providers'
 * replies: keep them short, one line, and free of control characters and markup.
 */
const MAX_REASON = 300;

export function safeReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const clean = text
    .replace(/<[^>]{0,200}>/g, ' ')
    // C0/C1 controls and lone surrogates: never stored.
    .replace(/[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > MAX_REASON ? `${clean.slice(0, MAX_REASON - 1)}…` : clean || 'unknown error';
}
