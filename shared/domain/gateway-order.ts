/**
 * The order in which an operator's gateways are tried: enabled ones only, by priority (1 first),
 * the operator's default first among equals, then the oldest. Pure, so the sender and the API agree.
 */
import type { Channel, Gateway, RoutingRule } from './records.js';

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

/** What routing rules look at: the number, and the kind of traffic (a one-time code, a single send, bulk). */
export interface RoutedMessage {
  to: string;
  kind: RoutingRule['kind'] & string;
}

/**
 * The operator's routing rules, in order: the first rule whose conditions all hold and whose
 * gateway is among `ordered` (enabled, of the channel) puts that gateway first; the others keep
 * their order behind it, for failover. No rule matching: `ordered` as it is.
 */
export function applyRoutingRules(ordered: readonly Gateway[], rules: readonly RoutingRule[] | undefined, message: RoutedMessage): Gateway[] {
  for (const rule of rules ?? []) {
    if (rule.countryPrefix !== undefined && !message.to.startsWith(rule.countryPrefix)) continue;
    if (rule.kind !== undefined && rule.kind !== message.kind) continue;
    const chosen = ordered.find((g) => g.id === rule.gatewayId);
    if (chosen) return [chosen, ...ordered.filter((g) => g !== chosen)];
  }
  return [...ordered];
}
