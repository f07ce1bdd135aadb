/**
 * One-time passwords: POST /v1/otp sends a code on the priority queue, POST /v1/otp/verify checks
 * it once. The code is never stored, returned, logged or shown: the record keeps an HMAC of it
 * (under a key derived from KMS, bound to the operator and the OTP id), the history shows the text
 * with the code masked, and the provider gets the text from the message's sealed content.
 */
import { createHmac, randomInt } from 'node:crypto';
import { conflict, notFound, TooManyRequests } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { normalizeMobile } from '../domain/phone.js';
import type { Operator } from '../domain/records.js';
import type { OtpRequestT } from '../domain/schemas.js';
import { renderTemplate } from '../domain/template.js';
import type { Deps } from '../deps.js';
import { timingSafeEqualStrings } from '../adapters/providers/http.js';
import { getCustomer } from './customers.js';
import { createMessage } from './messages.js';
import { DEFAULT_OTP_SMS_TEXT } from './settings.js';

type D = Pick<Deps, 'customers' | 'templates' | 'gateways' | 'messages' | 'counters' | 'queue' | 'clock' | 'cipher' | 'otps' | 'otpKey' | 'suppressions' | 'billing'>;

export const OTP_TTL_MINUTES = 5;
export const OTP_MAX_ATTEMPTS = 5;
/** At most this many codes per number in OTP_WINDOW_MS (against SMS pumping and code flooding). */
export const OTP_MAX_PER_NUMBER = 3;
export const OTP_WINDOW_MS = 10 * 60 * 1000;

async function codeHash(d: Pick<D, 'otpKey'>, operatorId: string, id: string, code: string): Promise<string> {
  return createHmac('sha256', await d.otpKey()).update(`${operatorId}\n${id}\n${code}`, 'utf8').digest('hex');
}

/** A code of `length` digits, uniformly random (leading zeros allowed). */
function newCode(length: number): string {
  return Array.from({ length }, () => String(randomInt(10))).join('');
}

export async function sendOtp(d: D, operator: Operator, input: OtpRequestT) {
  const customer = input.customerId === undefined ? undefined : await getCustomer(d, operator, input.customerId, 'customerId');
  const number = customer ? undefined : normalizeMobile(input.mobile!, operator.defaultCountry, 'mobile');
  const template = operator.otpWhatsappTemplate;
  if (input.channel === 'whatsapp' && !template) {
    throw conflict('OTPs by WhatsApp need an approved authentication template: set it with PATCH /v1/settings {"otp": {"whatsappTemplate": {"name", "language"}}}.');
  }
  const now = d.clock.now();
  // The per-number window counts the number a code goes to; a customer's is its mobile or WhatsApp number.
  const limitedNumber = customer?.mobile ?? number!;
  const slot = await d.otps.noteSend(operator.id, limitedNumber, now, OTP_MAX_PER_NUMBER, OTP_WINDOW_MS);
  if (!slot.ok) {
    const retryAfter = Math.max(1, Math.ceil((Date.parse(slot.retryAt) - now.getTime()) / 1000));
    throw new TooManyRequests(
      `At most ${OTP_MAX_PER_NUMBER} codes may be sent to ${limitedNumber} in ${OTP_WINDOW_MS / 60_000} minutes; try again in ${retryAfter} s.`,
      retryAfter,
      { name: 'otpPerNumber', value: OTP_MAX_PER_NUMBER },
    );
  }
  const id = newId(now);
  const messageId = newId(now);
  const code = newCode(input.length);
  const masked = '*'.repeat(input.length);
  const smsText = operator.otpSmsText ?? DEFAULT_OTP_SMS_TEXT;
  const render = (value: string) => renderTemplate(smsText, { code: value, minutes: OTP_TTL_MINUTES, operator: { name: operator.name } });
  const whatsappTemplate = (value: string) => (template ? { whatsappTemplate: { name: template.name, language: template.language, parameters: [value], copyCode: value } } : {});
  const expiresAt = new Date(now.getTime() + OTP_TTL_MINUTES * 60_000).toISOString();
  const otpRecord = {
    id,
    operatorId: operator.id,
    to: customer?.mobile ?? number!,
    messageId,
    codeHash: await codeHash(d, operator.id, id, code),
    expiresAt,
    attemptsLeft: OTP_MAX_ATTEMPTS,
    createdAt: now.toISOString(),
  };
  // Stored before the message exists: a code that goes out can always be verified.
  await d.otps.put(otpRecord);
  const { message } = await createMessage(
    d,
    operator,
    {
      id: messageId,
      // Without an authentication template, WhatsApp cannot carry a code outside a conversation: SMS.
      channel: template ? input.channel : 'sms',
      customer,
      number,
      content: { text: render(masked), ...whatsappTemplate(masked) },
      secret: { text: render(code), ...whatsappTemplate(code) },
      kind: 'otp',
      lane: 'priority',
      fields: { recipient: customer ? 'customerId' : 'mobile', content: 'otp' },
    },
    { quota: {} },
  );
  return { id, channel: message.channel, expiresAt, messageId: message.id, routing: message.routing ?? '' };
}

export async function verifyOtp(d: Pick<D, 'otps' | 'otpKey' | 'clock'>, operator: Operator, input: { id: string; code: string }) {
  const record = await d.otps.get(operator.id, input.id);
  if (!record) throw notFound(`OTP "${input.id}"`);
  const now = d.clock.now().toISOString();
  if (record.consumedAt) return { valid: false, attemptsLeft: 0, reason: 'This code was already used.' };
  if (record.expiresAt <= now) return { valid: false, attemptsLeft: 0, reason: 'This code has expired; ask for a new one.' };
  if (record.attemptsLeft <= 0) return { valid: false, attemptsLeft: 0, reason: 'Too many wrong tries; ask for a new code.' };
  // Constant time, over hashes of equal length.
  if (timingSafeEqualStrings(await codeHash(d, operator.id, record.id, input.code), record.codeHash)) {
    // Exactly one verify wins, even when two arrive at once.
    if (await d.otps.consume(operator.id, record.id, now)) return { valid: true };
    return { valid: false, attemptsLeft: 0, reason: 'This code was already used.' };
  }
  const left = (await d.otps.spendAttempt(operator.id, record.id)) ?? 0;
  return { valid: false, attemptsLeft: left, reason: left > 0 ? 'Wrong code.' : 'Wrong code; no tries are left, ask for a new code.' };
}
