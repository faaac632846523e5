/**
 * The default policy's error answers: generic for everything the engine may fill with library
 * text, verbatim for the codes whose message and data MCP fixes (URL elicitation, -32020,
 * -32021, -32022), and the SDK's frozen refused-requestState answer rebuilt from constants.
 */

import { describe, expect, it } from 'vitest';
import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/server';
import { DefaultPolicy, type CallContext } from '../../src/mcp/policy.js';
import { ANONYMOUS } from '../../src/security/identity.js';

const REQUEST: JSONRPCRequest = { jsonrpc: '2.0', id: 3, method: 'prompts/get', params: { name: 'p' } };
const CONTEXT: CallContext = { method: 'prompts/get', request: REQUEST, principal: ANONYMOUS, sessionId: undefined, clientIp: '127.0.0.1', startedAt: 0 };

function answered(error: { code: number; message: string; data?: unknown }): unknown {
  const out = new DefaultPolicy().finish(CONTEXT, { jsonrpc: '2.0', id: 3, error } as JSONRPCMessage);
  return (out as { error: unknown }).error;
}

describe('DefaultPolicy error answers', () => {
  it('passes -32020, -32021 and -32022 through with their data', () => {
    for (const error of [
      { code: -32020, message: 'Header mismatch: Mcp-Name does not match params.name' },
      { code: -32021, message: 'Missing required client capability', data: { requiredCapabilities: { elicitation: { form: {} } } } },
      { code: -32022, message: 'Unsupported protocol version: 1900-01-01', data: { supported: ['2026-07-28', '2025-11-25'], requested: '1900-01-01' } },
      { code: -32042, message: 'URL elicitation required', data: { elicitations: [] } },
    ]) {
      expect(answered(error), String(error.code)).toEqual(error);
    }
  });

  it('passes the refused requestState answer (-32602, data.reason invalid_request_state) as the SDK froze it', () => {
    const frozen = { code: -32602, message: 'Invalid or expired requestState', data: { reason: 'invalid_request_state' } };
    expect(answered(frozen)).toEqual(frozen);
    // Whatever else a handler put in such an error stays inside.
    expect(answered({ code: -32602, message: 'state of user alice@example.com expired', data: { reason: 'invalid_request_state', user: 'alice' } })).toEqual(frozen);
  });

  it('keeps other errors generic and drops their data', () => {
    expect(answered({ code: -32602, message: 'Invalid arguments: secret detail', data: { reason: 'other' } })).toEqual({ code: -32602, message: 'Invalid params' });
    expect(answered({ code: -32603, message: 'ECONNREFUSED 10.0.0.5:5432', data: { stack: 'x' } })).toEqual({ code: -32603, message: 'Internal error' });
  });
});
