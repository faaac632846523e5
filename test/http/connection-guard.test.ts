/**
 * The connection guard's defaults: the open-files limit it reads, the caps derived from it,
 * and which socket peers count as trusted proxies. Behaviour on the wire is in
 * test/integration/connection-flood.test.ts.
 */

import { describe, expect, it } from 'vitest';
import { ConfigError, configFromValues } from '../../src/config/load.js';
import { FALLBACK_FD_LIMIT, defaultConnectionCaps, fileDescriptorLimit, trustedProxyPeers } from '../../src/http/connection-guard.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             63704                63704                processes
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('fileDescriptorLimit', () => {
  it('reads the soft "Max open files" limit', () => {
    expect(fileDescriptorLimit(() => LIMITS)).toBe(1024);
  });

  it('falls back when the limit is unlimited, missing or unreadable', () => {
    expect(fileDescriptorLimit(() => LIMITS.replace('1024    ', 'unlimited'))).toBe(FALLBACK_FD_LIMIT);
    expect(fileDescriptorLimit(() => 'Max processes 10 10 processes\n')).toBe(FALLBACK_FD_LIMIT);
    expect(
      fileDescriptorLimit(() => {
        throw new Error('ENOENT');
      }),
    ).toBe(FALLBACK_FD_LIMIT);
  });

  it('reads this process (Linux)', () => {
    expect(fileDescriptorLimit()).toBeGreaterThan(0);
  });
});

describe('defaultConnectionCaps', () => {
  it('leaves a quarter of the descriptors free and gives one address a tenth, 16 to 256', () => {
    expect(defaultConnectionCaps(1024)).toEqual({ total: 768, perAddress: 76 });
    expect(defaultConnectionCaps(20_000)).toEqual({ total: 15_000, perAddress: 256 });
    expect(defaultConnectionCaps(100)).toEqual({ total: 75, perAddress: 16 });
    expect(defaultConnectionCaps(10)).toEqual({ total: 32, perAddress: 16 });
  });
});

describe('trustedProxyPeers', () => {
  it('exempts nobody without --trust-proxy', () => {
    expect(trustedProxyPeers({ kind: 'none' })('127.0.0.1')).toBe(false);
  });

  it('exempts the listed proxies (named ranges as proxy-addr knows them, IPv4-mapped too)', () => {
    const trusted = trustedProxyPeers({ kind: 'addresses', ranges: ['10.0.0.0/8', 'loopback'] });
    expect(trusted('10.1.2.3')).toBe(true);
    expect(trusted('::ffff:10.1.2.3')).toBe(true);
    expect(trusted('127.0.0.5')).toBe(true);
    expect(trusted('::1')).toBe(true);
    expect(trusted('192.0.2.1')).toBe(false);
  });

  it('with a hop count every peer is a proxy; zero hops trusts none', () => {
    expect(trustedProxyPeers({ kind: 'hops', hops: 1 })('192.0.2.1')).toBe(true);
    expect(trustedProxyPeers({ kind: 'hops', hops: 0 })('192.0.2.1')).toBe(false);
  });
});

describe('timeout options', () => {
  it('default to seconds and refuse a headers timeout longer than the request timeout', () => {
    const config = configFromValues({});
    expect([config.connections.headersTimeout, config.connections.requestTimeout, config.connections.keepAliveTimeout, config.connections.lingerTimeout]).toEqual([10, 30, 5, 5]);
    expect(config.connections.max).toBeUndefined();
    expect(() => configFromValues({ headersTimeout: 60, requestTimeout: 30 })).toThrow(ConfigError);
    expect(() => configFromValues({ maxConnectionsPerIp: 0 })).toThrow(/maxConnectionsPerIp/);
  });
});
