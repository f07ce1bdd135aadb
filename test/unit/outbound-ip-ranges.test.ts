import { describe, expect, it } from 'vitest';
import { classifyAddress, isAddressAllowed, parseIPv6, type AddressCategory } from '../../shared/adapters/outbound/ip-ranges.js';

/** [address, category, relaxable (allowed with ISPNOTIFY_ALLOW_PRIVATE_URLS=1)] */
const table: Array<[string, AddressCategory, boolean]> = [
  // public
  ['93.184.216.34', 'public', false],
  ['8.8.8.8', 'public', false],
  ['1.1.1.1', 'public', false],
  ['2606:2800:220:1::1', 'public', false],
  ['2001:4860:4860::8888', 'public', false],
  ['::ffff:93.184.216.34', 'public', false], // IPv4-mapped public
  ['64:ff9b::5db8:d822', 'public', false], // NAT64 of 93.184.216.34
  ['2002:5db8:d822::1', 'public', false], // 6to4 of 93.184.216.34
  // loopback
  ['127.0.0.1', 'loopback', true],
  ['127.255.255.254', 'loopback', true],
  ['::1', 'loopback', true],
  ['0:0:0:0:0:0:0:1', 'loopback', true],
  // private
  ['10.0.0.5', 'private', true],
  ['172.16.0.1', 'private', true],
  ['172.31.255.255', 'private', true],
  ['192.168.1.1', 'private', true],
  ['fc00::1', 'private', true],
  ['fd12:3456:789a::1', 'private', true],
  // cloud metadata: never relaxable
  ['169.254.169.254', 'metadata', false],
  ['169.254.170.2', 'metadata', false],
  ['100.100.100.200', 'metadata', false],
  ['168.63.129.16', 'metadata', false],
  ['192.0.0.192', 'metadata', false],
  ['fd00:ec2::254', 'metadata', false],
  ['FD00:EC2:0:0:0:0:0:254', 'metadata', false],
  ['::ffff:169.254.169.254', 'metadata', false],
  ['::ffff:a9fe:a9fe', 'metadata', false],
  ['64:ff9b::a9fe:a9fe', 'metadata', false],
  ['2002:a9fe:a9fe::', 'metadata', false],
  // link-local
  ['169.254.1.1', 'link-local', false],
  ['fe80::1', 'link-local', false],
  ['fe80::1%eth0', 'link-local', false],
  ['febf::1', 'link-local', false],
  // shared (CGNAT)
  ['100.64.0.1', 'shared', false],
  ['100.127.255.254', 'shared', false],
  // multicast, unspecified, broadcast
  ['224.0.0.1', 'multicast', false],
  ['239.255.255.250', 'multicast', false],
  ['ff02::1', 'multicast', false],
  ['0.0.0.0', 'unspecified', false],
  ['::', 'unspecified', false],
  ['255.255.255.255', 'broadcast', false],
  // documentation and reserved
  ['192.0.2.10', 'documentation', false],
  ['198.51.100.7', 'documentation', false],
  ['203.0.113.9', 'documentation', false],
  ['2001:db8::1', 'documentation', false],
  ['3fff::1', 'documentation', false],
  ['0.1.2.3', 'reserved', false],
  ['192.0.0.8', 'reserved', false],
  ['198.18.0.1', 'reserved', false],
  ['192.88.99.1', 'reserved', false],
  ['240.0.0.1', 'reserved', false],
  ['2001::1', 'reserved', false], // Teredo
  ['100::1', 'reserved', false],
  ['fec0::1', 'reserved', false],
  ['4000::1', 'reserved', false], // outside global unicast 2000::/3
  ['64:ff9b:1::1', 'reserved', false],
  // IPv4-mapped and -compatible forms of blocked IPv4, in every spelling
  ['::ffff:127.0.0.1', 'loopback', true],
  ['::ffff:7f00:1', 'loopback', true],
  ['0:0:0:0:0:ffff:7f00:1', 'loopback', true],
  ['::ffff:10.0.0.5', 'private', true],
  ['::127.0.0.1', 'loopback', false], // deprecated IPv4-compatible: blocked, not relaxable
  ['::7f00:1', 'loopback', false],
  ['::5db8:d822', 'reserved', false], // IPv4-compatible form of a public address: not routable
  ['::ffff:0:7f00:1', 'loopback', false], // SIIT IPv4-translated
  ['::ffff:0.0.0.0', 'unspecified', false],
  // NAT64 and 6to4 embedding a blocked IPv4
  ['64:ff9b::127.0.0.1', 'loopback', false],
  ['64:ff9b::7f00:1', 'loopback', false],
  ['64:ff9b::a00:5', 'private', false],
  ['2002:7f00:1::', 'loopback', false],
  ['2002:c0a8:101::1', 'private', false],
  // not an address (URL parsing normalises these; a resolver must not return them)
  ['2130706433', 'invalid', false],
  ['0x7f.1', 'invalid', false],
  ['017700000001', 'invalid', false],
  ['127.1', 'invalid', false],
  ['localhost', 'invalid', false],
  ['', 'invalid', false],
];

describe('address classifier', () => {
  it.each(table)('classifies %s as %s (relaxable: %s)', (address, category, relaxable) => {
    const verdict = classifyAddress(address);
    expect(verdict.category).toBe(category);
    expect(verdict.relaxable).toBe(relaxable);
  });

  it.each(table)('allows %s only when it is public, or relaxable and private URLs are allowed', (address, category, relaxable) => {
    expect(isAddressAllowed(address, false)).toBe(category === 'public');
    expect(isAddressAllowed(address, true)).toBe(category === 'public' || relaxable);
  });

  it('names the IPv4 address inside an IPv6 form, so a tenant sees what it really is', () => {
    expect(classifyAddress('::ffff:7f00:1')).toMatchObject({ embeddedIPv4: '127.0.0.1', description: 'a loopback address' });
    expect(classifyAddress('64:ff9b::a9fe:a9fe')).toMatchObject({ embeddedIPv4: '169.254.169.254', category: 'metadata' });
    expect(classifyAddress('2002:c0a8:101::1')).toMatchObject({ embeddedIPv4: '192.168.1.1' });
    expect(classifyAddress('10.0.0.5').embeddedIPv4).toBeUndefined();
  });

  it('never allows a cloud metadata address, not even with private URLs allowed', () => {
    for (const address of ['169.254.169.254', 'fd00:ec2::254', '100.100.100.200', '168.63.129.16', '::ffff:169.254.169.254']) {
      expect(isAddressAllowed(address, true), address).toBe(false);
    }
  });

  it('parses every IPv6 spelling of the same address to the same number', () => {
    const spellings = ['::ffff:127.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:7f00:0001', '[::ffff:7f00:1]', '::FFFF:7F00:1'];
    const values = spellings.map(parseIPv6);
    expect(values[0]).toBe(0xffff7f000001n);
    expect(new Set(values).size).toBe(1);
    expect(parseIPv6('1:2:3:4:5:6:7:8')).toBe(0x00010002000300040005000600070008n);
    expect(parseIPv6('1::2::3')).toBeUndefined();
    expect(parseIPv6('127.0.0.1')).toBeUndefined();
  });
});
