/**
 * @module security/oauth/public-address
 * Which IP addresses the authorization server may connect to when it fetches a Client ID
 * Metadata Document (the SSRF guard of draft-ietf-oauth-client-id-metadata-document §6.5): only
 * public unicast ones. The ranges come from ipaddr.js (the IANA special-purpose registries,
 * RFC 6890 and successors); the policy here is an allow list, so any range ipaddr.js names
 * (private, loopback, link-local, unique-local, CGNAT, multicast, broadcast, unspecified,
 * reserved, documentation, benchmarking, 6to4, Teredo, NAT64 ...) is refused, and an
 * IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
 *
 * Tests can allow loopback (127.0.0.0/8, ::1) and nothing else: `--oauth-cimd-allow-loopback`.
 */

import { createRequire } from 'node:module';
import type * as IpAddr from 'ipaddr.js';

// ipaddr.js is CommonJS with `export =` (no default import without esModuleInterop).
const ipaddr = createRequire(import.meta.url)('ipaddr.js') as typeof IpAddr;

/** 2000::/3, the IPv6 global unicast space (RFC 4291 §2.4, IANA's allocation). */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3') as [IpAddr.IPv6, number];

/** Why an address is refused (a tag for the audit trail), or undefined when it may be fetched from. */
export type AddressRefusal = 'not_an_address' | 'loopback' | 'private_range';

/**
 * Why `address` (an IP literal, brackets allowed) is not a public unicast address, or undefined
 * when it is (or is loopback and `allowLoopback`).
 *
 * @example
 * addressRefusal('93.184.215.14', false); // undefined
 * addressRefusal('10.1.2.3', false);      // 'private_range'
 * addressRefusal('::ffff:127.0.0.1', false); // 'loopback'
 */
export function addressRefusal(address: string, allowLoopback: boolean): AddressRefusal | undefined {
  const text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  // Strict forms only: `ipaddr.parse` also takes 0x7f.1, 2130706433 and other legacy IPv4 spellings.
  if (!ipaddr.IPv4.isValidFourPartDecimal(text) && !(text.includes(':') && ipaddr.IPv6.isValid(text))) return 'not_an_address';
  let parsed = ipaddr.parse(text);
  if (parsed.kind() === 'ipv6' && (parsed as IpAddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as IpAddr.IPv6).toIPv4Address();
  const range = parsed.range();
  if (range === 'loopback') return allowLoopback ? undefined : 'loopback';
  // IPv6: only global unicast (2000::/3). ipaddr.js calls some addresses outside it "unicast",
  // such as the deprecated IPv4-compatible ::/96 (::7f00:1, ::a9fe:a9fe), which a host or
  // network translating them would send to an internal IPv4 address.
  if (parsed.kind() === 'ipv6' && !(parsed as IpAddr.IPv6).match(GLOBAL_UNICAST_V6)) return 'private_range';
  if (range === 'unicast') return undefined;
  return 'private_range';
}
