/**
 * @module security/ip-rules
 * Address allow/deny lists over `net.BlockList` (IPv4 and IPv6 CIDRs; IPv4-mapped IPv6
 * addresses match their IPv4 rules).
 */

import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** A set of CIDRs/addresses that can be tested quickly. */
export interface IpMatcher {
  readonly size: number;
  matches(address: string): boolean;
}

/** Builds a matcher from CIDRs (`10.0.0.0/8`, `2001:db8::/32`) and plain addresses. */
export function ipMatcher(ranges: readonly string[]): IpMatcher {
  const list = new BlockList();
  for (const range of ranges) {
    const slash = range.indexOf('/');
    const address = slash === -1 ? range : range.slice(0, slash);
    const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    if (family === undefined) throw new RangeError('not an IP address or CIDR');
    if (slash === -1) list.addAddress(address, family);
    else list.addSubnet(address, Number(range.slice(slash + 1)), family);
  }
  return {
    size: ranges.length,
    matches(address: string): boolean {
      if (isIPv4(address)) return list.check(address, 'ipv4');
      if (isIPv6(address)) return list.check(address, 'ipv6');
      return false;
    },
  };
}

/** Outcome of the global IP rules for one client. */
export type IpVerdict = 'allowed' | 'denied' | 'not_allowed';

/**
 * The global rules: a deny match always refuses; a non-empty allow list refuses everyone it
 * does not match.
 */
export function createIpRules(options: { allow: readonly string[]; deny: readonly string[] }): ((address: string) => IpVerdict) | undefined {
  if (options.allow.length === 0 && options.deny.length === 0) return undefined;
  const allow = options.allow.length > 0 ? ipMatcher(options.allow) : undefined;
  const deny = options.deny.length > 0 ? ipMatcher(options.deny) : undefined;
  return function ipVerdict(address: string): IpVerdict {
    if (deny?.matches(address) === true) return 'denied';
    if (allow !== undefined && !allow.matches(address)) return 'not_allowed';
    return 'allowed';
  };
}
