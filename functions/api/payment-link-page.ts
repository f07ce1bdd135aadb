/** The replies of GET /p/{token}: a redirect, or a small page that needs nothing from elsewhere. */
import { escapeHtml } from '../../shared/domain/html.js';
import type { PaymentLinkOutcome } from '../../shared/services/payment-links.js';
import type { ApiResult } from './middleware/types.js';

/** Never cached (a paid bill changes the answer); the token is never sent on as a Referer. */
const COMMON_HEADERS = { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' };
/** The page has its own inline style and nothing else: no scripts, images or frames. */
const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export function paymentLinkReply(outcome: PaymentLinkOutcome): ApiResult {
  if ('redirect' in outcome) return { statusCode: 302, headers: { ...COMMON_HEADERS, location: outcome.redirect } };
  return {
    statusCode: outcome.status,
    headers: { ...COMMON_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CONTENT_SECURITY_POLICY },
    body: pageHtml(outcome.title, outcome.text),
  };
}

function pageHtml(title: string, text: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:0;padding:2rem 1rem;background:#f6f7f9;color:#1d2330}main{max-width:28rem;margin:0 auto;background:#fff;border-radius:.75rem;padding:1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.1)}h1{font-size:1.3rem;margin:0 0 .75rem}p{margin:0;line-height:1.5}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(text)}</p>
</main>
</body>
</html>
`;
}
