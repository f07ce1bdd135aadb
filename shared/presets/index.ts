/** Every ready gateway preset for the generic HTTP provider, by id. One file per preset. */
import { africastalking } from './africastalking.js';
import { bulkgate } from './bulkgate.js';
import { bulksmsbd } from './bulksmsbd.js';
import { hubtel } from './hubtel.js';
import { kaleyra } from './kaleyra.js';
import { lox24 } from './lox24.js';
import { notifylk } from './notifylk.js';
import type { GatewayPreset } from './preset.js';
import { semaphore } from './semaphore.js';
import { smsapi } from './smsapi.js';
import { sparrow } from './sparrow.js';
import { termii } from './termii.js';
import { textbelt } from './textbelt.js';
import { textlk } from './textlk.js';
import { textlocal } from './textlocal.js';
import { unecast } from './unecast.js';
import { unifonic } from './unifonic.js';
import { zenvia } from './zenvia.js';
import { smsnetbd } from './smsnetbd.js';
import { d7networks } from './d7networks.js';
import { vonage } from './vonage.js';
import { esms } from './esms.js';
import { mocean } from './mocean.js';
import { mobizon } from './mobizon.js';
import { smsglobal } from './smsglobal.js';
import { textmagic } from './textmagic.js';

export type { GatewayPreset } from './preset.js';

export const gatewayPresets: readonly GatewayPreset[] = [
  africastalking,
  bulkgate,
  bulksmsbd,
  hubtel,
  kaleyra,
  lox24,
  notifylk,
  semaphore,
  smsapi,
  sparrow,
  termii,
  textbelt,
  textlk,
  textlocal,
  unecast,
  unifonic,
  zenvia,
  smsnetbd,
  d7networks,
  vonage,
  esms,
  mocean,
  mobizon,
  smsglobal,
  textmagic,
];

export function gatewayPreset(id: string): GatewayPreset | undefined {
  return gatewayPresets.find((preset) => preset.id === id);
}
