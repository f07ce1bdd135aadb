import { OtpRequest, OtpVerify } from '../../shared/domain/schemas.js';
import { deps } from '../../shared/deps.js';
import { sendOtp, verifyOtp } from '../../shared/services/otp.js';
import { api, json, parse } from './_middleware.js';

export const handler = api({
  'POST /v1/otp': async ({ operator, body }) => json(202, await sendOtp(deps(), operator, parse(OtpRequest, body))),
  'POST /v1/otp/verify': async ({ operator, body }) => json(200, await verifyOtp(deps(), operator, parse(OtpVerify, body))),
});
