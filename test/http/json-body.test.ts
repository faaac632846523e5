/**
 * The JSON body parser: depth limit before parsing, prototype-poisoning keys refused.
 */

import { describe, expect, it } from 'vitest';
import { WardenError } from '../../src/errors.js';
import { MAX_JSON_DEPTH, jsonDepth, parseJsonBody } from '../../src/http/json-body.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof WardenError ? error.code : 'other';
  }
  return undefined;
}

describe('parseJsonBody', () => {
  it('measures depth outside strings only', () => {
    expect(jsonDepth('{"a":[1,{"b":2}]}')).toBe(3);
    expect(jsonDepth('{"a":"[[[[[[[[[["}')).toBe(1);
    expect(jsonDepth('{"a":"\\"[[["}')).toBe(1);
    expect(jsonDepth('1')).toBe(0);
  });

  it('parses ordinary JSON', () => {
    expect(parseJsonBody('{"jsonrpc":"2.0","id":1,"method":"ping"}')).toEqual({ jsonrpc: '2.0', id: 1, method: 'ping' });
    expect(parseJsonBody('{"constructor":"just a string"}')).toEqual({ constructor: 'just a string' });
  });

  it('refuses nesting beyond the limit', () => {
    expect(codeOf(() => parseJsonBody('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)))).toBeUndefined();
    expect(codeOf(() => parseJsonBody('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1)))).toBe('WARDEN_ERR_INVALID_REQUEST');
    expect(codeOf(() => parseJsonBody('['.repeat(1_000_000)))).toBe('WARDEN_ERR_INVALID_REQUEST');
  });

  it('reports invalid JSON as a parse error', () => {
    expect(codeOf(() => parseJsonBody('{'))).toBe('WARDEN_ERR_PARSE');
    expect(codeOf(() => parseJsonBody(''))).toBe('WARDEN_ERR_PARSE');
  });

  it('refuses __proto__ and constructor.prototype anywhere', () => {
    expect(codeOf(() => parseJsonBody('{"__proto__":{"x":1}}'))).toBe('WARDEN_ERR_INVALID_REQUEST');
    expect(codeOf(() => parseJsonBody('{"a":[{"b":{"__proto__":null}}]}'))).toBe('WARDEN_ERR_INVALID_REQUEST');
    expect(codeOf(() => parseJsonBody('{"constructor":{"prototype":{"x":1}}}'))).toBe('WARDEN_ERR_INVALID_REQUEST');
    // The same keys spelled with JSON escapes.
    expect(codeOf(() => parseJsonBody('{"\\u005f_proto__":{"x":1}}'))).toBe('WARDEN_ERR_INVALID_REQUEST');
    expect(codeOf(() => parseJsonBody('{"a":{"__pro\\u0074o__":1}}'))).toBe('WARDEN_ERR_INVALID_REQUEST');
    expect(parseJsonBody('{"text":"caf\\u00e9"}')).toEqual({ text: 'café' });
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });
});
