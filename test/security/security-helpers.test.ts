/**
 * Small security primitives: bearer parsing, the key ring, key generation, Host/Origin
 * guards and the rate-limit client key.
 */

import { describe, expect, it } from 'vitest';
import { KeyRing, keyFingerprint } from '../../src/security/api-keys.js';
import { readBearer } from '../../src/security/bearer.js';
import { clientKey, ipv6Groups } from '../../src/security/client-ip.js';
import { createHostGuard, createOriginGuard, isLoopbackHost } from '../../src/security/hosts.js';
import { generateApiKey } from '../../src/security/keygen.js';

describe('readBearer', () => {
  it.each([
    [undefined, { kind: 'missing' }],
    ['', { kind: 'missing' }],
    ['Bearer abc.DEF-ghi_~+/==', { kind: 'token', token: 'abc.DEF-ghi_~+/==' }],
    ['BEARER abc', { kind: 'token', token: 'abc' }],
    ['Bearer a b', { kind: 'malformed' }],
    ['Basic abc', { kind: 'malformed' }],
    ['Bearer ', { kind: 'malformed' }],
    ['Bearer ab=c', { kind: 'malformed' }],
    ['Bearer \u00e9t\u00e9', { kind: 'malformed' }],
  ])('%j → %j', (header, expected) => {
    expect(readBearer(header)).toEqual(expected);
  });
});

describe('KeyRing', () => {
  const key = generateApiKey();
  const ring = KeyRing.fromKeys([key, generateApiKey()]);

  it('accepts configured keys and names them by fingerprint only', () => {
    const verdict = ring.verify(key);
    expect(verdict).toMatchObject({ ok: true, principal: { kind: 'api-key', id: keyFingerprint(key), name: undefined, tools: undefined } });
    expect(verdict.ok && verdict.principal.id).toMatch(/^key_[0-9a-f]{12}$/);
    expect(JSON.stringify(verdict)).not.toContain(key);
  });

  it('rejects anything else', () => {
    expect(ring.verify(`${key}x`)).toEqual({ ok: false, reason: 'unknown_key' });
    expect(ring.verify(key.slice(1))).toEqual({ ok: false, reason: 'unknown_key' });
    expect(ring.verify('')).toEqual({ ok: false, reason: 'unknown_key' });
    expect(ring.size).toBe(2);
  });
});

describe('generateApiKey', () => {
  it('gives 32 random bytes as 43 base64url characters, different every time', () => {
    const keys = new Set(Array.from({ length: 100 }, () => generateApiKey()));
    expect(keys.size).toBe(100);
    for (const key of keys) {
      expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(key, 'base64url')).toHaveLength(32);
    }
  });
});

describe('Host and Origin guards', () => {
  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.8.9.1', '::1', 'localhost', 'api.localhost', '::ffff:127.0.0.1']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', 'localhost.example.com']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('bound to loopback: only loopback names and allowed hosts', () => {
    const allowed = createHostGuard({ bindHost: '127.0.0.1', allowedHosts: ['mcp.internal', 'dev.example:9000'] });
    for (const host of ['localhost', 'localhost:8443', '127.0.0.1:8443', '[::1]:8443', 'mcp.internal:8443', 'dev.example:9000']) expect(allowed(host), host).toBe(true);
    for (const host of [undefined, '', 'evil.example', 'dev.example:9001', '127.0.0.2.evil.example']) expect(allowed(host), String(host)).toBe(false);
  });

  it('bound to all interfaces: any Host unless allowed hosts are set', () => {
    expect(createHostGuard({ bindHost: '0.0.0.0', allowedHosts: [] })('anything.example')).toBe(true);
    const pinned = createHostGuard({ bindHost: '0.0.0.0', allowedHosts: ['mcp.example.com'] });
    expect(pinned('mcp.example.com')).toBe(true);
    expect(pinned('evil.example')).toBe(false);
  });

  it('Origin: absent, listed, public URL or same-origin', () => {
    const allowed = createOriginGuard({ allowedOrigins: ['https://app.example'], publicUrl: 'https://mcp.example.com/base' });
    expect(allowed(undefined, 'localhost')).toBe(true);
    expect(allowed('https://app.example', 'localhost')).toBe(true);
    expect(allowed('https://mcp.example.com', 'internal:8443')).toBe(true);
    expect(allowed('http://localhost:8443', 'localhost:8443')).toBe(true);
    expect(allowed('http://localhost:9999', 'localhost:8443')).toBe(false);
    expect(allowed('https://evil.example', 'localhost:8443')).toBe(false);
    expect(allowed('null', 'localhost:8443')).toBe(false);
  });
});

describe('clientKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::1', '::1'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002::', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('%s → %s', (address, key) => {
    expect(clientKey(address)).toBe(key);
  });

  it('expands IPv6 groups', () => {
    expect(ipv6Groups('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Groups('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Groups('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(ipv6Groups('not-an-ip')).toBeUndefined();
  });
});
