/** The SSRF address guard of Client ID Metadata Document fetches: public unicast only, loopback only when allowed for tests. */

import { describe, expect, it } from 'vitest';
import { addressRefusal } from '../../src/security/oauth/public-address.js';

const REFUSED: ReadonlyArray<readonly [string, string]> = [
  ['10.0.0.1', 'private_range'],
  ['10.255.255.255', 'private_range'],
  ['172.16.0.1', 'private_range'],
  ['172.31.255.254', 'private_range'],
  ['192.168.1.1', 'private_range'],
  ['127.0.0.1', 'loopback'],
  ['127.9.9.9', 'loopback'],
  ['169.254.169.254', 'private_range'], // cloud metadata endpoint
  ['100.64.0.1', 'private_range'],
  ['100.127.255.254', 'private_range'],
  ['0.0.0.0', 'private_range'],
  ['0.1.2.3', 'private_range'],
  ['224.0.0.1', 'private_range'],
  ['239.255.255.250', 'private_range'],
  ['255.255.255.255', 'private_range'],
  ['192.0.2.10', 'private_range'], // documentation
  ['198.18.0.1', 'private_range'], // benchmarking
  ['240.0.0.1', 'private_range'], // reserved
  ['::1', 'loopback'],
  ['[::1]', 'loopback'],
  ['::', 'private_range'],
  ['fc00::1', 'private_range'],
  ['fd12:3456::1', 'private_range'],
  ['fe80::1', 'private_range'],
  ['ff02::1', 'private_range'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:10.0.0.1', 'private_range'],
  ['::ffff:169.254.169.254', 'private_range'],
  ['64:ff9b::a00:1', 'private_range'], // NAT64 of 10.0.0.1
  ['2002:a00:1::', 'private_range'], // 6to4 of 10.0.0.1
  ['2001::1', 'private_range'], // Teredo
  ['2001:db8::1', 'private_range'], // documentation
  // IPv4-compatible (deprecated ::/96; ipaddr.js calls them unicast): outside 2000::/3.
  ['::7f00:1', 'private_range'],
  ['::a9fe:a9fe', 'private_range'],
  ['::a00:1', 'private_range'],
  ['::808:808', 'private_range'],
  ['4000::1', 'private_range'], // unallocated, outside 2000::/3
  // Legacy IPv4 spellings are not addresses to us (a resolver never answers with them).
  ['2130706433', 'not_an_address'],
  ['0x7f.0.0.1', 'not_an_address'],
  ['127.1', 'not_an_address'],
  ['example.com', 'not_an_address'],
];

const PUBLIC = ['8.8.8.8', '1.1.1.1', '93.184.215.14', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8'];

describe('addressRefusal', () => {
  it.each(REFUSED)('refuses %s (%s)', (address, why) => {
    expect(addressRefusal(address, false)).toBe(why);
  });

  it.each(PUBLIC)('accepts the public unicast address %s', (address) => {
    expect(addressRefusal(address, false)).toBeUndefined();
  });

  it('the test allowance admits loopback and nothing else', () => {
    for (const address of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1']) expect(addressRefusal(address, true), address).toBeUndefined();
    for (const [address, why] of REFUSED.filter(([, reason]) => reason !== 'loopback')) expect(addressRefusal(address, true), address).toBe(why);
  });
});
