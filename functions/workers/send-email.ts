/** The send-email queue's worker (see send.ts). */
import { sendWorkerHandler } from './send.js';

export const handler = sendWorkerHandler('functions/workers/send-email.ts');
