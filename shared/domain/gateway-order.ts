/**
 * The order in which an operator's gateways are tried: enabled ones only, by priority (1 first),
 * the operator's default first among equals, then the oldest. Pure, so the sender and the API agree.
 */
import type { Channel, Gateway } from './records.js';

export function gatewayOrder(gateways: readonly Gateway[], channel: Channel, defaultGatewayId: string | undefined): Gateway[] {
  return gateways
    .filter((g) => g.channel === channel && g.enabled !== false)
    .sort(
      (a, b) =>
        (a.priority ?? 1) - (b.priority ?? 1) ||
        Number(b.id === defaultGatewayId) - Number(a.id === defaultGatewayId) ||
        a.createdAt.localeCompare(b.createdAt) ||
        a.id.localeCompare(b.id),
    );
}

/** The next gateway to fail over to: the first in order not yet tried for this message and not cooling down. */
export function nextGateway(ordered: readonly Gateway[], tried: ReadonlySet<string>, isOpen: (gatewayId: string) => boolean): Gateway | undefined {
  return ordered.find((g) => !tried.has(g.id) && !isOpen(g.id));
}
