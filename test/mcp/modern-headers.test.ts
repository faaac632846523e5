/**
 * The pure header checks of the 2026-07-28 transport (mcp/transport/modern-headers) and the
 * binding of a long-lived SDK v2 instance to the modern era (mcp/engine/v2-bind).
 */

import { describe, expect, it } from 'vitest';
import { McpServer } from '@modelcontextprotocol/server';
import { checkParamHeaders, checkStandardHeaders, decodeSentinel, paramHeaderDeclarations } from '../../src/mcp/transport/modern-headers.js';
import { assertModernEngine, bindModernEra, ModernBindingError } from '../../src/mcp/engine/v2-bind.js';

const STD = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call' };

describe('decodeSentinel', () => {
  it('decodes canonical Base64 of UTF-8 and passes plain values through', () => {
    expect(decodeSentinel(`=?base64?${Buffer.from('Zürich').toString('base64')}?=`)).toBe('Zürich');
    expect(decodeSentinel('plain')).toBe('plain');
    // Markers are case-sensitive: this is a plain value.
    expect(decodeSentinel('=?BASE64?YQ==?=')).toBe('=?BASE64?YQ==?=');
  });

  it.each(['=?base64?YQ?=', '=?base64?Y*Q=?=', `=?base64?${Buffer.from([0xc3, 0x28]).toString('base64')}?=`])('refuses %s', (value) => {
    expect(decodeSentinel(value)).toBeUndefined();
  });
});

describe('checkStandardHeaders', () => {
  it('needs the version and method headers, and Mcp-Name equal to the body for named methods', () => {
    expect(checkStandardHeaders({ ...STD, 'mcp-name': 'echo' }, 'tools/call', { name: 'echo' })).toBeUndefined();
    expect(checkStandardHeaders({ 'mcp-method': 'tools/list' }, 'tools/list', {})?.cell).toBe('version-header-missing');
    expect(checkStandardHeaders({ 'mcp-protocol-version': '2026-07-28' }, 'tools/list', {})?.cell).toBe('method-header-missing');
    expect(checkStandardHeaders(STD, 'tools/call', { name: 'echo' })?.cell).toBe('name-header-missing');
    expect(checkStandardHeaders({ ...STD, 'mcp-name': 'other' }, 'tools/call', { name: 'echo' })?.cell).toBe('name-header-mismatch');
    expect(checkStandardHeaders({ ...STD, 'mcp-name': ' echo\t' }, 'tools/call', { name: 'echo' })).toBeUndefined();
    expect(checkStandardHeaders({ ...STD, 'mcp-name': 'x://a' }, 'resources/read', { uri: 'x://b' })?.cell).toBe('name-header-mismatch');
    // A repeated header arrives joined: never equal to one body value.
    expect(checkStandardHeaders({ ...STD, 'mcp-name': ['echo', 'echo'] }, 'tools/call', { name: 'echo' })?.cell).toBe('name-header-mismatch');
  });

  it('never quotes header or body values in its message', () => {
    const refusal = checkStandardHeaders({ ...STD, 'mcp-name': '<img src=x>' }, 'tools/call', { name: 'secret-tool' });
    expect(refusal?.message).toBe('Header mismatch: Mcp-Name does not match params.name');
  });
});

describe('x-mcp-header declarations', () => {
  const schema = {
    type: 'object',
    properties: {
      region: { type: 'string', 'x-mcp-header': 'Region' },
      nested: { type: 'object', properties: { tenant: { type: 'string', 'x-mcp-header': 'Tenant' } } },
      list: { type: 'array', items: { type: 'string', 'x-mcp-header': 'NotReachable' } },
      bad: { type: 'string', 'x-mcp-header': 'has space' },
      flag: { type: 'boolean', 'x-mcp-header': 'Flag' },
    },
  };

  it('are found only along properties chains, and only when they are tokens', () => {
    expect(paramHeaderDeclarations(schema).map((d) => d.headerName)).toEqual(['Region', 'Tenant', 'Flag']);
  });

  it('a nested value and a boolean are compared in their header form', () => {
    const declarations = paramHeaderDeclarations(schema);
    const headers = { 'mcp-param-region': 'eu', 'mcp-param-tenant': 'acme', 'mcp-param-flag': 'true' };
    expect(checkParamHeaders(declarations, { region: 'eu', nested: { tenant: 'acme' }, flag: true }, headers)).toBeUndefined();
    expect(checkParamHeaders(declarations, { region: 'eu', nested: { tenant: 'acme' }, flag: false }, headers)?.cell).toBe('param-header-mismatch');
    expect(checkParamHeaders(declarations, { region: 'eu', nested: { tenant: 'other' } }, headers)?.header).toBe('Mcp-Param-Tenant');
  });
});

describe('v2-bind', () => {
  it('binds an McpServer to 2026-07-28 and registers server/discover', () => {
    const product = new McpServer({ name: 'x', version: '1' });
    const server = bindModernEra(product);
    expect((server as unknown as { _negotiatedProtocolVersion: string })._negotiatedProtocolVersion).toBe('2026-07-28');
    expect((server as unknown as { _supportedProtocolVersions: string[] })._supportedProtocolVersions).toContain('2026-07-28');
  });

  it('refuses what is not an SDK v2 server, and a discover answer that is not modern', () => {
    expect(() => bindModernEra({ connect: async () => undefined, close: async () => undefined })).toThrow(ModernBindingError);
    expect(() => assertModernEngine({ result: { supportedVersions: ['2026-07-28'] } })).toThrow(/resultType/);
    expect(() => assertModernEngine({ result: { resultType: 'complete', supportedVersions: ['2025-11-25'] } })).toThrow(/2026-07-28/);
    expect(() => assertModernEngine({ error: { code: -32601 } })).toThrow(ModernBindingError);
    expect(() => assertModernEngine({ result: { resultType: 'complete', supportedVersions: ['2026-07-28'] } })).not.toThrow();
  });
});
