/** A ready description of a real SMS gateway for the generic HTTP provider (`http`). */
import type { HttpGatewaySettingsInput } from '../adapters/providers/sms/http-gateway.js';

export interface GatewayPreset {
  /** Lower-case id, used as `preset` in POST /v1/gateways. */
  id: string;
  name: string;
  /** ISO 3166-1 alpha-2 country the gateway mainly serves. */
  country: string;
  /** The public documentation this description follows. */
  docs: string;
  /** The secret fields the gateway needs, besides webhookSecret (which every http gateway has). */
  credentials: string[];
  /** The settings the operator still gives (the rest comes from the preset). */
  operatorSettings: Array<'sender'>;
  /** The http provider's settings, without the operator's own. */
  settings: Omit<HttpGatewaySettingsInput, 'sender'>;
}
