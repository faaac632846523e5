/**
 * Canonical JSON: one text per value (RFC 8785 for JSON data), iterative so hostile nesting from
 * an upstream cannot overflow the stack.
 */

import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/gateway/canonical-json.js';

describe('canonicalJson', () => {
  it('writes the RFC 8785 §3.2.2 sample exactly', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    ) as unknown;
    expect(canonicalJson(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('sorts keys by UTF-16 code units at every depth (RFC 8785 §3.2.3 order)', () => {
    const keys = ['\u20ac', '\r', '\ud83d\ude00', '1', '\u0080', '\u00f6', '\ufb33'];
    const value = Object.fromEntries(keys.map((key, index) => [key, { z: index, a: [{ y: 1, b: 2 }] }]));
    const text = canonicalJson(value);
    // The order RFC 8785 §3.2.3 gives for these keys (not Object.keys order: "1" is an index there).
    const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((key) => text.indexOf(`${JSON.stringify(key)}:{`));
    expect(order.every((position) => position > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toContain('{"a":[{"b":2,"y":1}],"z":0}');
    expect(text).not.toMatch(/\s/);
  });

  it('gives equal text for equal values whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { e: 3, f: 2 }] }, b: 1 }));
  });

  it('leaves out undefined members as JSON.stringify does, and writes them as null in arrays', () => {
    expect(canonicalJson({ a: undefined, b: 1, c: () => 1 })).toBe('{"b":1}');
    expect(canonicalJson([undefined, 1, Number.NaN, Infinity])).toBe('[null,1,null,null]');
  });

  it('handles 100,000 levels of nesting without overflowing the stack', () => {
    let deep: unknown = 'x';
    for (let level = 0; level < 100_000; level++) deep = level % 2 === 0 ? [deep] : { k: deep };
    const text = canonicalJson(deep);
    expect(text.length).toBe(100_000 + 3 + 50_000 * 5 + 50_000);
    expect(text.startsWith('{"k":[{"k":[')).toBe(true);
  });

  it('refuses cycles and bigints with a TypeError', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = { again: cyclic };
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});
