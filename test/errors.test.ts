/**
 * The error catalogue: stable, unique codes with sane statuses and JSON-RPC codes.
 */

import { describe, expect, it } from 'vitest';
import { ERROR_CODES, WardenError, type WardenErrorCode } from '../src/errors.js';
import { RPC } from '../src/wire-codes.js';
import { errorBody, publicCode } from '../src/http/error-reply.js';

describe('ERROR_CODES', () => {
  const codes = Object.keys(ERROR_CODES) as WardenErrorCode[];

  it('every key is a WARDEN_ERR_ code and its error carries it', () => {
    for (const code of codes) {
      expect(code).toMatch(/^WARDEN_ERR_[A-Z_]+$/);
      expect(new WardenError(code).code).toBe(code);
    }
  });

  it('public codes are unique', () => {
    expect(new Set(codes.map(publicCode)).size).toBe(codes.length);
  });

  it('statuses are HTTP errors and JSON-RPC codes are standard or server-range', () => {
    const standard = new Set<number>(Object.values(RPC));
    for (const code of codes) {
      const definition = ERROR_CODES[code];
      expect(definition.status).toBeGreaterThanOrEqual(400);
      expect(definition.status).toBeLessThan(600);
      expect(standard.has(definition.rpc)).toBe(true);
    }
  });

  it('keeps the internal reason and cause off the public message', () => {
    const error = new WardenError('WARDEN_ERR_AUTH_INVALID', { reason: 'unknown_key', cause: new Error('internal detail') });
    const message = ERROR_CODES.WARDEN_ERR_AUTH_INVALID.message;
    expect(message).toMatch(/^Unauthorized: /);
    expect(error.publicMessage).toBe(message);
    expect(message).not.toMatch(/unknown_key|internal detail/);
    expect(errorBody('WARDEN_ERR_AUTH_INVALID', 'mcp')).toBe(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
    expect(errorBody('WARDEN_ERR_AUTH_INVALID', 'api')).toBe(JSON.stringify({ error: 'auth_invalid', message }));
  });
});
