/**
 * Secret scanning over JSON values: findings name the kind and the JSON Pointer, never the
 * secret (not even a secret used as a key); redaction keeps the structure; the walk is bounded
 * (depth, characters, findings) and fails closed; the response policy passes, redacts or blocks.
 */

import { describe, expect, it } from 'vitest';
import { applySecretPolicy, redactText, redactValue, redactWithFindings, scanValue } from '../../src/gateway/secrets.js';

const MIB = 1024 * 1024;
const AWS_ID = 'AKIA' + 'IOSFODNN7EXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/' + 'bPxRfiCYEXAMPLEKEY';
const GITHUB = 'ghp_' + 'aB3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zQ7aB';
const JWT = 'eyJhbGciOiJIUzI1NiJ9' + '.eyJzdWIiOiIxIn0' + '.c2lnbmF0dXJl';

/** A tools/call result as an upstream would send it, with secrets in several places. */
function leakyResult(): Record<string, unknown> {
  return {
    content: [
      { type: 'text', text: `Found credentials: ${AWS_ID} and token ${GITHUB}.` },
      { type: 'text', text: 'nothing here' },
    ],
    structuredContent: { env: { AWS_SECRET_ACCESS_KEY: AWS_SECRET, HOME: '/root', count: 3, ok: true, none: null }, [`${GITHUB}`]: 'key is a token' },
    isError: false,
  };
}

describe('scanValue', () => {
  it('reports kinds and JSON Pointers, in keys and values, never the secret', () => {
    const result = scanValue(leakyResult());
    expect(result).toEqual({
      truncated: false,
      findings: [
        { kind: 'aws-access-key-id', path: '/content/0/text', where: 'value' },
        { kind: 'github-token', path: '/content/0/text', where: 'value' },
        { kind: 'aws-secret-access-key', path: '/structuredContent/env/AWS_SECRET_ACCESS_KEY', where: 'value' },
        { kind: 'github-token', path: '/structuredContent/[REDACTED:github-token]', where: 'key' },
      ],
    });
    const text = JSON.stringify(result);
    for (const secret of [AWS_ID, AWS_SECRET, GITHUB]) expect(text).not.toContain(secret);
  });

  it('builds paths from redacted keys at every depth, escaped per RFC 6901', () => {
    const value = { [`a/${JWT}~`]: { inner: [`Bearer ${JWT}`] } };
    const { findings } = scanValue(value);
    expect(findings).toEqual([
      { kind: 'jwt', path: '/a~1[REDACTED:jwt]~0', where: 'key' },
      { kind: 'jwt', path: '/a~1[REDACTED:jwt]~0/inner/0', where: 'value' },
    ]);
    expect(JSON.stringify(findings)).not.toContain(JWT);
  });

  it('scans a top-level string, and ignores numbers, booleans and null', () => {
    expect(scanValue(`x ${GITHUB}`).findings).toEqual([{ kind: 'github-token', path: '', where: 'value' }]);
    expect(scanValue([1, true, null, 2.5])).toEqual({ findings: [], truncated: false });
  });

  it('stops at maxDepth and reports truncated', () => {
    let deep: unknown = GITHUB;
    for (let level = 0; level < 100; level++) deep = { d: deep };
    expect(scanValue(deep)).toEqual({ findings: [], truncated: true });
    expect(scanValue(deep, { maxDepth: 101 }).findings).toHaveLength(1);
  });

  it('stops at maxScanChars (keys count) and reports truncated', () => {
    const value = { first: 'a'.repeat(100), second: GITHUB };
    expect(scanValue(value, { maxScanChars: 100 })).toEqual({ findings: [], truncated: true });
    // A string longer than what is left is not scanned at all (not even its start).
    expect(scanValue({ blob: `${GITHUB} ${'a'.repeat(100)}` }, { maxScanChars: 100 })).toEqual({ findings: [], truncated: true });
    expect(scanValue(value, { maxScanChars: 100 + 'first'.length + 'second'.length + GITHUB.length })).toEqual({
      findings: [{ kind: 'github-token', path: '/second', where: 'value' }],
      truncated: false,
    });
  });

  it('keeps each (kind, path) once and at most maxFindings', () => {
    expect(scanValue(`${GITHUB} ${GITHUB} ${GITHUB}`).findings).toHaveLength(1);
    const many = Array.from({ length: 50 }, () => GITHUB);
    expect(scanValue(many, { maxFindings: 10 })).toMatchObject({ truncated: true, findings: { length: 10 } });
  });

  it('handles a 1 MiB string with secrets at the start, the middle and the end', () => {
    const filler = 'lorem ipsum dolor sit amet, '.repeat(Math.ceil(MIB / 28)).slice(0, MIB / 2 - 100);
    const text = `${GITHUB} ${filler} ${AWS_ID} ${filler} ${JWT}`;
    expect(text.length).toBeGreaterThan(MIB - 200);
    const { value, findings, truncated } = redactWithFindings({ blob: text });
    expect(truncated).toBe(false);
    expect(findings.map((finding) => finding.kind)).toEqual(['github-token', 'aws-access-key-id', 'jwt']);
    expect((value as { blob: string }).blob).toBe(`[REDACTED:github-token] ${filler} [REDACTED:aws-access-key-id] ${filler} [REDACTED:jwt]`);
  });
});

describe('redactValue', () => {
  it('returns a deep copy with each secret replaced and everything else intact', () => {
    const original = leakyResult();
    const before = JSON.stringify(original);
    const copy = redactValue(original);
    expect(copy).toEqual({
      content: [
        { type: 'text', text: 'Found credentials: [REDACTED:aws-access-key-id] and token [REDACTED:github-token].' },
        { type: 'text', text: 'nothing here' },
      ],
      structuredContent: { env: { AWS_SECRET_ACCESS_KEY: '[REDACTED:aws-secret-access-key]', HOME: '/root', count: 3, ok: true, none: null }, '[REDACTED:github-token]': 'key is a token' },
      isError: false,
    });
    expect(JSON.stringify(original)).toBe(before);
    expect(copy).not.toBe(original);
    expect((copy as { content: unknown[] }).content).not.toBe(original['content']);
  });

  it('keeps a "__proto__" key a key', () => {
    const value = JSON.parse(`{"__proto__": {"t": "${GITHUB}"}}`) as unknown;
    const copy = redactValue(value) as Record<string, unknown>;
    expect(Object.keys(copy)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(JSON.stringify(copy)).toBe('{"__proto__":{"t":"[REDACTED:github-token]"}}');
  });

  it('fails closed past the bounds: unscanned strings and subtrees are replaced whole', () => {
    // Keys count too: once the budget is spent, later keys are unscanned as well.
    expect(redactValue({ a: 'x'.repeat(50), b: `clean ${GITHUB}`, c: 7 }, { maxScanChars: 60 })).toEqual({ a: 'x'.repeat(50), b: '[REDACTED:unscanned]', '[REDACTED:unscanned]': 7 });
    expect(redactValue({ a: { b: { c: 'deep' } }, top: 'ok' }, { maxDepth: 2 })).toEqual({ a: { b: '[REDACTED:unscanned]' }, top: 'ok' });
  });

  it('redactText leaves text without secrets identical', () => {
    const text = 'Plain text with sk-learn, a SHA 4b825dc642cb6eb9a060e54bf8d69288fbee4904 and Bearer tokens.';
    expect(redactText(text)).toBe(text);
  });
});

describe('applySecretPolicy', () => {
  it('off passes the value unscanned', () => {
    const value = leakyResult();
    const outcome = applySecretPolicy(value, 'off');
    expect(outcome).toEqual({ action: 'pass', value, findings: [], truncated: false });
    expect(outcome.action === 'pass' && outcome.value).toBe(value);
  });

  it('redact passes a redacted copy when something was found, the original otherwise', () => {
    const outcome = applySecretPolicy(leakyResult(), 'redact');
    expect(outcome.action).toBe('redacted');
    expect(JSON.stringify(outcome)).not.toContain(GITHUB);
    expect(outcome.findings).toHaveLength(4);
    const clean = { content: [{ type: 'text', text: 'hello' }] };
    const passed = applySecretPolicy(clean, 'redact');
    expect(passed).toEqual({ action: 'pass', value: clean, findings: [], truncated: false });
    expect(passed.action === 'pass' && passed.value).toBe(clean);
  });

  it('block blocks on findings and on a truncated scan, passes a clean value', () => {
    const blocked = applySecretPolicy(leakyResult(), 'block');
    expect(blocked).toMatchObject({ action: 'blocked', truncated: false });
    expect(blocked).not.toHaveProperty('value');
    expect(applySecretPolicy({ t: 'x'.repeat(200) }, 'block', { maxScanChars: 100 })).toEqual({ action: 'blocked', findings: [], truncated: true });
    expect(applySecretPolicy({ t: 'hello' }, 'block')).toEqual({ action: 'pass', value: { t: 'hello' }, findings: [], truncated: false });
  });
});
