/**
 * @module security/client-ip
 * The key a client is rate-limited under. IPv4 addresses stand alone; an IPv6 client is grouped
 * by its /64, because one subscriber routinely holds a whole /64 and could otherwise rotate
 * through 2^64 addresses to reset its limit (RFC 6177 / RFC 7421 §2.3 on /64 end sites).
 */

import { isIPv4, isIPv6 } from 'node:net';
import type { TrustProxy } from '../config/options.js';
import { ipMatcher } from './ip-rules.js';

/** Expands an IPv6 address into its eight 16-bit groups; undefined when it is not one. */
export function ipv6Groups(address: string): number[] | undefined {
  const zone = address.indexOf('%');
  const text = zone === -1 ? address : address.slice(0, zone);
  if (!isIPv6(text)) return undefined;
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const groups: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const octets = piece.split('.').map(Number) as [number, number, number, number];
        groups.push((octets[0] << 8) | octets[1], (octets[2] << 8) | octets[3]);
      } else {
        groups.push(parseInt(piece, 16));
      }
    }
    return groups;
  };
  const first = parse(head);
  if (tail === undefined) return first;
  const last = parse(tail);
  return [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
}

/**
 * The rate-limit key of a client address: the IPv4 address itself (also for IPv4-mapped IPv6),
 * or the IPv6 /64 prefix.
 *
 * @example
 * clientKey('203.0.113.7');              // '203.0.113.7'
 * clientKey('::ffff:203.0.113.7');       // '203.0.113.7'
 * clientKey('2001:db8:1:2:aaaa::1');     // '2001:db8:1:2::/64'
 */
export function clientKey(address: string): string {
  if (isIPv4(address)) return address;
  const groups = ipv6Groups(address);
  if (groups === undefined) return address;
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    const high = groups[6] as number;
    const low = groups[7] as number;
    return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  if (groups.every((group, index) => (index < 7 ? group === 0 : group === 1))) return '::1';
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** proxy-addr's named ranges (what `--trust-proxy loopback,uniquelocal` means to Fastify). */
const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** Whether the peer at `hop` (0 = the socket peer) is a trusted proxy under `trust`. */
export function createProxyTrust(trust: TrustProxy): (address: string, hop: number) => boolean {
  switch (trust.kind) {
    case 'none':
      return () => false;
    case 'hops': {
      const hops = trust.hops;
      return (_address, hop) => hop < hops;
    }
    case 'addresses': {
      const matcher = ipMatcher(trust.ranges.flatMap((range) => NAMED_RANGES[range] ?? [range]));
      return (address) => matcher.matches(address);
    }
  }
}

/**
 * The client address of a request as Fastify's `request.ip` computes it (proxy-addr: walk from
 * the socket peer back through `X-Forwarded-For` while the hop is trusted), for the requests
 * Fastify builds without its trust-proxy request class (framework errors).
 */
export function forwardedClient(socketAddress: string, forwardedFor: string | undefined, trusted: (address: string, hop: number) => boolean): string {
  if (forwardedFor === undefined || forwardedFor === '') return socketAddress;
  const chain = [socketAddress, ...forwardedFor.split(',').map((part) => part.trim()).reverse()];
  let hop = 0;
  while (hop < chain.length - 1 && trusted(chain[hop] as string, hop)) hop++;
  return chain[hop] as string;
}
