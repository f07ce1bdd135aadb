/**
 * Which IP addresses our servers may connect to when a tenant configures a URL. Pure: no DNS, no
 * sockets. Used by url-guard.ts on literal IPs in URLs and on every address a host name resolves to.
 *
 * The rule is an allowlist in spirit: IPv4 is public unless it falls in a special-purpose range
 * (IANA IPv4 Special-Purpose Address Registry); IPv6 must be global unicast (2000::/3) and outside
 * the special-purpose ranges, and the IPv6 forms that carry an IPv4 address (IPv4-mapped,
 * IPv4-compatible, SIIT, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the IPv4 address inside.
 *
 * `relaxable` marks what a deployment may allow with ISPNOTIFY_ALLOW_PRIVATE_URLS=1 (tests, local
 * demo): loopback and private (RFC 1918, IPv6 ULA) only. Cloud metadata and every other blocked
 * range stay blocked even then.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type AddressCategory =
  | 'public'
  | 'loopback'
  | 'private'
  | 'metadata'
  | 'link-local'
  | 'shared'
  | 'multicast'
  | 'unspecified'
  | 'broadcast'
  | 'documentation'
  | 'reserved'
  | 'invalid';

export interface AddressVerdict {
  /** The address as given. */
  address: string;
  category: AddressCategory;
  /** Words for a tenant, e.g. "a private address". */
  description: string;
  /** True when ISPNOTIFY_ALLOW_PRIVATE_URLS=1 lets a connection go there (loopback and private only). */
  relaxable: boolean;
  /** The IPv4 address inside an IPv6 form (mapped, NAT64, 6to4...), when that decided the verdict. */
  embeddedIPv4?: string;
}

const DESCRIPTIONS: Record<AddressCategory, string> = {
  public: 'a public address',
  loopback: 'a loopback address',
  private: 'a private address',
  metadata: 'a cloud metadata address',
  'link-local': 'a link-local address',
  shared: 'a carrier-grade NAT (shared) address',
  multicast: 'a multicast address',
  unspecified: 'an unspecified address',
  broadcast: 'a broadcast address',
  documentation: 'a documentation address',
  reserved: 'a reserved address',
  invalid: 'not a valid IP address',
};

const RELAXABLE: ReadonlySet<AddressCategory> = new Set(['loopback', 'private']);

interface V4Range {
  base: number;
  prefix: number;
  category: AddressCategory;
}

function v4(cidr: string, category: AddressCategory): V4Range {
  const [base, prefix] = cidr.split('/') as [string, string];
  return { base: parseIPv4(base)!, prefix: Number(prefix), category };
}

/** First match wins, so the narrow ranges come first. */
const V4_RANGES: readonly V4Range[] = [
  v4('0.0.0.0/32', 'unspecified'),
  v4('255.255.255.255/32', 'broadcast'),
  // Instance metadata and credential endpoints: never reachable, not even with private URLs allowed.
  v4('169.254.169.254/32', 'metadata'), // AWS, GCP, Azure, DigitalOcean, OpenStack... IMDS
  v4('169.254.170.2/32', 'metadata'), // AWS ECS task credentials
  v4('169.254.170.23/32', 'metadata'), // AWS EKS Pod Identity
  v4('100.100.100.200/32', 'metadata'), // Alibaba Cloud
  v4('168.63.129.16/32', 'metadata'), // Azure wireserver (otherwise a public address)
  v4('192.0.0.192/32', 'metadata'), // Oracle Cloud
  v4('0.0.0.0/8', 'reserved'), // "this network"
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'shared'), // RFC 6598 carrier-grade NAT
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'reserved'), // IETF protocol assignments
  v4('192.0.2.0/24', 'documentation'), // TEST-NET-1
  v4('192.88.99.0/24', 'reserved'), // deprecated 6to4 relay anycast
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'reserved'), // benchmarking
  v4('198.51.100.0/24', 'documentation'), // TEST-NET-2
  v4('203.0.113.0/24', 'documentation'), // TEST-NET-3
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved'), // future use
];

/** Dotted-decimal IPv4 (the form URL parsing and DNS give) to an unsigned 32-bit number. */
export function parseIPv4(text: string): number | undefined {
  if (!isIPv4(text)) return undefined;
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

function inV4(value: number, range: V4Range): boolean {
  if (range.prefix === 0) return true;
  const shift = 32 - range.prefix;
  return Math.floor(value / 2 ** shift) === Math.floor(range.base / 2 ** shift);
}

function classifyV4Number(value: number): AddressCategory {
  return V4_RANGES.find((range) => inV4(value, range))?.category ?? 'public';
}

/** IPv6 text (a zone "%eth0" is ignored) to a 128-bit number. */
export function parseIPv6(text: string): bigint | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const address = bare.split('%')[0]!;
  if (!isIPv6(address)) return undefined;
  let groups: string[];
  const lastColon = address.lastIndexOf(':');
  const tail = address.slice(lastColon + 1);
  let head = address;
  const extra: string[] = [];
  if (tail.includes('.')) {
    const value = parseIPv4(tail);
    if (value === undefined) return undefined;
    extra.push((value >>> 16).toString(16), (value & 0xffff).toString(16));
    head = address.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const left = halves[0] ? halves[0].split(':') : [];
  if (halves.length === 2) {
    const right = halves[1] ? halves[1].split(':') : [];
    const missing = 8 - left.length - right.length - extra.length;
    if (missing < 0) return undefined;
    groups = [...left, ...Array<string>(missing).fill('0'), ...right, ...extra];
  } else {
    groups = [...left, ...extra];
  }
  if (groups.length !== 8) return undefined;
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  return value;
}

interface V6Range {
  base: bigint;
  prefix: number;
  category: AddressCategory | 'embedded';
  /** For 'embedded': where the IPv4 address sits (bits from the right) and whether the IPv4 verdict carries over when public. */
  v4Shift?: bigint;
  publicWhenEmbeddedPublic?: boolean;
  relaxableFromEmbedded?: boolean;
}

function v6(cidr: string, category: V6Range['category'], embedded?: Pick<V6Range, 'v4Shift' | 'publicWhenEmbeddedPublic' | 'relaxableFromEmbedded'>): V6Range {
  const [base, prefix] = cidr.split('/') as [string, string];
  return { base: parseIPv6(base)!, prefix: Number(prefix), category, ...embedded };
}

const V6_RANGES: readonly V6Range[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  // IPv4-mapped: the socket really talks IPv4 to the embedded address.
  v6('::ffff:0:0/96', 'embedded', { v4Shift: 0n, publicWhenEmbeddedPublic: true, relaxableFromEmbedded: true }),
  // SIIT IPv4-translated and the deprecated IPv4-compatible form: never useful for a tenant.
  v6('::ffff:0:0:0/96', 'embedded', { v4Shift: 0n, publicWhenEmbeddedPublic: false }),
  v6('::/96', 'embedded', { v4Shift: 0n, publicWhenEmbeddedPublic: false }),
  // NAT64 well-known prefix: the NAT64 gateway connects to the embedded IPv4 address.
  v6('64:ff9b::/96', 'embedded', { v4Shift: 0n, publicWhenEmbeddedPublic: true }),
  v6('64:ff9b:1::/48', 'reserved'), // local-use NAT64
  v6('100::/64', 'reserved'), // discard-only
  v6('2001:db8::/32', 'documentation'),
  v6('2001::/23', 'reserved'), // IETF protocol assignments, Teredo included
  // 6to4: 2002:AABB:CCDD::/48 routes to IPv4 AA.BB.CC.DD.
  v6('2002::/16', 'embedded', { v4Shift: 80n, publicWhenEmbeddedPublic: true }),
  v6('3fff::/20', 'documentation'),
  v6('5f00::/16', 'reserved'), // SRv6 SIDs
  v6('fd00:ec2::/32', 'metadata'), // AWS instance services over IPv6: IMDS fd00:ec2::254, EKS Pod Identity fd00:ec2::23...
  v6('fc00::/7', 'private'), // unique local addresses
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'reserved'), // deprecated site-local
  v6('ff00::/8', 'multicast'),
];

const GLOBAL_UNICAST = v6('2000::/3', 'public');

function inV6(value: bigint, range: V6Range): boolean {
  const shift = BigInt(128 - range.prefix);
  return value >> shift === range.base >> shift;
}

function verdict(address: string, category: AddressCategory, embeddedIPv4?: string, relaxable = RELAXABLE.has(category)): AddressVerdict {
  return {
    address,
    category,
    description: DESCRIPTIONS[category],
    relaxable: category !== 'public' && relaxable,
    ...(embeddedIPv4 !== undefined ? { embeddedIPv4 } : {}),
  };
}

/** What kind of address this is. Anything that is not a plain IPv4 or IPv6 address is 'invalid'. */
export function classifyAddress(address: string): AddressVerdict {
  const asV4 = parseIPv4(address);
  if (asV4 !== undefined) return verdict(address, classifyV4Number(asV4));
  const asV6 = parseIPv6(address);
  if (asV6 === undefined) return verdict(address, 'invalid');
  const range = V6_RANGES.find((candidate) => inV6(asV6, candidate));
  if (!range) return verdict(address, inV6(asV6, GLOBAL_UNICAST) ? 'public' : 'reserved');
  if (range.category !== 'embedded') return verdict(address, range.category);
  const inner = Number((asV6 >> range.v4Shift!) & 0xffffffffn);
  const innerText = formatIPv4(inner);
  const innerCategory = classifyV4Number(inner);
  if (innerCategory === 'public') {
    return range.publicWhenEmbeddedPublic ? verdict(address, 'public') : verdict(address, 'reserved', innerText, false);
  }
  return verdict(address, innerCategory, innerText, range.relaxableFromEmbedded === true && RELAXABLE.has(innerCategory));
}

/** May a connection go to this address? allowPrivate relaxes loopback and private only. */
export function isAddressAllowed(address: string, allowPrivate: boolean): boolean {
  const { category, relaxable } = classifyAddress(address);
  return category === 'public' || (allowPrivate && relaxable);
}
