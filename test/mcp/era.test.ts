/**
 * `mcp/era`: which era a POST belongs to, through the SDK's public `classifyInboundRequest`
 * plus our rules (fixed messages, -32022 listing both eras, unknown headers and garbage bodies
 * left to today's legacy transport). And the version lists of `mcp/protocol-versions`.
 */

import { describe, expect, it } from 'vitest';
import { classifyEra, type EraDecision } from '../../src/mcp/era.js';
import {
  ALL_SUPPORTED_PROTOCOL_VERSIONS,
  MODERN_PROTOCOL_VERSIONS,
  SUPPORTED_PROTOCOL_VERSIONS,
  isModernProtocolVersion,
} from '../../src/mcp/protocol-versions.js';

const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };

function post(body: unknown, headers: Record<string, string | string[]> = {}): EraDecision {
  return classifyEra({ httpMethod: 'POST', headers, body });
}

function modernCall(version = '2026-07-28', extra: Record<string, unknown> = {}): unknown {
  return { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, _meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': version, ...extra } } };
}

const MODERN_HEADERS = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };

describe('protocol versions', () => {
  it('lists the modern revision apart from the 2025 ones, and both in the supported list, newest first', () => {
    expect(MODERN_PROTOCOL_VERSIONS).toEqual(['2026-07-28']);
    expect(SUPPORTED_PROTOCOL_VERSIONS).toEqual(['2025-11-25', '2025-06-18', '2025-03-26']);
    expect(ALL_SUPPORTED_PROTOCOL_VERSIONS).toEqual(['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26']);
    expect(isModernProtocolVersion('2026-07-28')).toBe(true);
    expect(isModernProtocolVersion('2025-11-25')).toBe(false);
    expect(isModernProtocolVersion(20260728)).toBe(false);
  });
});

describe('classifyEra: legacy', () => {
  it('GET and DELETE (session streams and ends) are legacy', () => {
    expect(classifyEra({ httpMethod: 'GET', headers: {} })).toEqual({ era: 'legacy' });
    expect(classifyEra({ httpMethod: 'DELETE', headers: { 'mcp-session-id': 'x' } })).toEqual({ era: 'legacy' });
  });

  it('initialize, requests without a _meta claim, notifications, responses and all-legacy batches are legacy', () => {
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } };
    expect(post(initialize)).toEqual({ era: 'legacy' });
    expect(post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'mcp-protocol-version': '2025-11-25', 'mcp-session-id': 's' })).toEqual({ era: 'legacy' });
    expect(post({ jsonrpc: '2.0', id: 2, method: 'tools/list' })).toEqual({ era: 'legacy' });
    expect(post({ jsonrpc: '2.0', method: 'notifications/initialized' })).toEqual({ era: 'legacy' });
    expect(post({ jsonrpc: '2.0', id: 3, result: {} })).toEqual({ era: 'legacy' });
    expect(post([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { jsonrpc: '2.0', id: 2, method: 'ping' }])).toEqual({ era: 'legacy' });
  });

  it('bodies that are not JSON-RPC stay with the legacy transport, which answers them as before', () => {
    for (const body of ['x', 42, null, {}, { jsonrpc: '1.0', id: 1, method: 'ping' }]) expect(post(body)).toEqual({ era: 'legacy' });
  });

  it('an unknown or malformed MCP-Protocol-Version header without a claim keeps today\u2019s legacy answer', () => {
    for (const version of ['<script>', '2024-11-05', '1900-01-01', '2026-07-27', 'latest']) {
      expect(post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'mcp-protocol-version': version }), version).toEqual({ era: 'legacy' });
    }
  });
});

describe('classifyEra: modern', () => {
  it('a request whose _meta names 2026-07-28 is modern, with the SDK classification for the engine', () => {
    const decision = post(modernCall(), MODERN_HEADERS);
    expect(decision).toMatchObject({ era: 'modern', revision: '2026-07-28', messageKind: 'request', classification: { era: 'modern', revision: '2026-07-28' } });
    expect(decision.era === 'modern' && decision.message.method).toBe('tools/call');
  });

  it('a modern notification is modern; an initialize carrying a modern claim is modern too', () => {
    expect(post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, _meta: ENVELOPE } })).toMatchObject({ era: 'modern', messageKind: 'notification' });
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2026-07-28', capabilities: {}, clientInfo: { name: 'c', version: '1' }, _meta: ENVELOPE } };
    expect(post(initialize)).toMatchObject({ era: 'modern' });
  });
});

describe('classifyEra: refusals (fixed messages, nothing echoed)', () => {
  it('a claim naming a 2025 or an unknown version is -32022 listing both eras; `requested` only when date-shaped', () => {
    expect(post(modernCall('2025-11-25'))).toEqual({
      era: 'reject',
      status: 400,
      code: -32022,
      message: 'Unsupported protocol version',
      data: { supported: ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26'], requested: '2025-11-25' },
      cell: 'unsupported-modern-version',
    });
    expect(post(modernCall('2031-01-01'))).toMatchObject({ era: 'reject', status: 400, code: -32022, data: { requested: '2031-01-01' } });
    const odd = post(modernCall('v9<script>'));
    expect(odd).toMatchObject({ era: 'reject', status: 400, code: -32022 });
    expect(JSON.stringify(odd)).not.toContain('script');
  });

  it('MCP-Protocol-Version disagreeing with _meta is 400/-32020 (HeaderMismatch)', () => {
    const decision = post(modernCall(), { ...MODERN_HEADERS, 'mcp-protocol-version': '2025-11-25' });
    expect(decision).toEqual({ era: 'reject', status: 400, code: -32020, message: 'Header mismatch: MCP-Protocol-Version does not match _meta protocolVersion', cell: 'header-body-version-mismatch' });
  });

  it('a served modern header (2026-07-28) without the _meta claim is 400/-32602', () => {
    const decision = post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'mcp-protocol-version': '2026-07-28' });
    expect(decision).toMatchObject({ era: 'reject', status: 400, code: -32602, message: 'Invalid params: missing _meta io.modelcontextprotocol/protocolVersion' });
    expect(JSON.stringify(decision)).not.toContain('2026-07-28');
  });

  it('a later date we do not serve, without the claim, stays with the 2025 transport (its 400 names the supported versions)', () => {
    expect(post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'mcp-protocol-version': '2099-01-01' })).toEqual({ era: 'legacy' });
  });

  it('an envelope without clientCapabilities is 400/-32602 without echoing the SDK\u2019s detail', () => {
    const body = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } };
    const decision = post(body, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
    expect(decision).toMatchObject({ era: 'reject', status: 400, code: -32602, message: 'Invalid params: incomplete _meta envelope' });
    expect(decision).not.toHaveProperty('data');
  });

  it('a batch holding a modern request is 400/-32600', () => {
    expect(post([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }, modernCall()])).toMatchObject({ era: 'reject', status: 400, code: -32600, message: 'Invalid Request' });
  });

  it('a repeated MCP-Protocol-Version header never equals a valid version', () => {
    const decision = post(modernCall(), { ...MODERN_HEADERS, 'mcp-protocol-version': ['2026-07-28', '2026-07-28'] });
    expect(decision).toMatchObject({ era: 'reject', status: 400, code: -32020 });
  });
});
