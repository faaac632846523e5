/**
 * @module gateway/secrets
 * Secret leak detection over tool arguments and results: {@link scanValue} reports which kinds
 * of secret sit where (never the secret), {@link redactValue} / {@link redactText} replace each
 * one with `[REDACTED:<kind>]` and leave the rest intact, {@link applySecretPolicy} decides a
 * response by policy (`off` / `redact` / `block`). The audit trail and the logs always get the
 * redacted form; responses get what the policy says. The formats and their false-positive
 * guards are listed in `gateway/secret-detectors`.
 *
 * Values are walked as JSON: strings at any depth are scanned, and object keys too (a finding in
 * a key has `where: 'key'`). Paths are JSON Pointers (RFC 6901), built from the *redacted* keys,
 * so a secret used as a key never shows in a path.
 *
 * Bounded work: at most `maxDepth` nesting levels (default 64) and `maxScanChars` string
 * characters in total (UTF-16 code units, keys included; default 4 MiB). Past either bound the
 * scan stops descending or scanning and reports `truncated: true`. Redaction fails closed: a
 * string (or key) that no longer fits the budget, and anything nested deeper than `maxDepth`, is
 * replaced whole by `[REDACTED:unscanned]` (several such keys in one object collapse into one);
 * `block` blocks a truncated scan. Set the budget above the
 * largest result the gateway lets through (its result size cap) and it never truncates.
 * The findings list holds each (kind, path, where) once, at most `maxFindings` (default 1000).
 */

import { findSecretSpans, namedSecretKind, type SecretKind, type SecretSpan } from './secret-detectors.js';

export { SECRET_KINDS, type SecretKind } from './secret-detectors.js';

/** One secret found: what kind, and where (JSON Pointer; in a member's key or in a value). */
export interface SecretFinding {
  readonly kind: SecretKind;
  readonly path: string;
  readonly where: 'key' | 'value';
}

export interface ScanResult {
  readonly findings: readonly SecretFinding[];
  /** The depth or character budget was reached (or the findings list was cut): not everything was scanned. */
  readonly truncated: boolean;
}

export interface ScanOptions {
  /** Most nesting levels walked (default 64). */
  readonly maxDepth?: number;
  /** Most string characters scanned in total, keys included (default 4 MiB). */
  readonly maxScanChars?: number;
  /** Most findings kept (default 1000). */
  readonly maxFindings?: number;
}

export const DEFAULT_MAX_DEPTH = 64;
export const DEFAULT_MAX_SCAN_CHARS = 4 * 1024 * 1024;
export const DEFAULT_MAX_FINDINGS = 1000;

/** What a secret is replaced with. */
export function redactionMark(kind: SecretKind | 'unscanned'): string {
  return `[REDACTED:${kind}]`;
}

/**
 * `text` with each secret replaced by `[REDACTED:<kind>]`; everything else unchanged.
 *
 * @example
 * redactText('Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig'); // 'Authorization: Bearer [REDACTED:jwt]'
 */
export function redactText(text: string): string {
  return redactSpans(text, findSecretSpans(text));
}

/** The kinds of secret in `text`, each once, in order of appearance. */
export function scanText(text: string): SecretKind[] {
  return [...new Set(findSecretSpans(text).map((span) => span.kind))];
}

function redactSpans(text: string, spans: readonly SecretSpan[]): string {
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const span of spans) {
    out += text.slice(at, span.start) + redactionMark(span.kind);
    at = span.end;
  }
  return out + text.slice(at);
}

/** RFC 6901 §3: `~` → `~0`, `/` → `~1`. */
function pointerSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

class Walk {
  readonly #maxDepth: number;
  readonly #maxFindings: number;
  readonly #redact: boolean;
  readonly #seen = new Set<string>();
  #budget: number;
  readonly findings: SecretFinding[] = [];
  truncated = false;

  constructor(options: ScanOptions, redact: boolean) {
    this.#maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.#budget = options.maxScanChars ?? DEFAULT_MAX_SCAN_CHARS;
    this.#maxFindings = options.maxFindings ?? DEFAULT_MAX_FINDINGS;
    this.#redact = redact;
  }

  /** The string with its secrets redacted, reporting them at `path`; undefined when it did not fit the budget. */
  #text(text: string, path: (redacted: string) => string, where: 'key' | 'value', name?: string): string | undefined {
    if (text.length > this.#budget) {
      this.truncated = true;
      this.#budget = 0;
      return undefined;
    }
    this.#budget -= text.length;
    let spans = findSecretSpans(text);
    const named = spans.length === 0 && name !== undefined ? namedSecretKind(name, text) : undefined;
    if (named !== undefined) spans = [{ kind: named, start: 0, end: text.length }];
    if (spans.length === 0) return text;
    const redacted = redactSpans(text, spans);
    for (const span of spans) this.#report(span.kind, path(redacted), where);
    return redacted;
  }

  #report(kind: SecretKind, path: string, where: 'key' | 'value'): void {
    const id = `${kind} ${where} ${path}`;
    if (this.#seen.has(id)) return;
    if (this.findings.length >= this.#maxFindings) {
      this.truncated = true;
      return;
    }
    this.#seen.add(id);
    this.findings.push({ kind, path, where });
  }

  /** Walks `value` at `path`; returns the redacted copy when redacting (else undefined). */
  value(value: unknown, path: string, depth: number, name?: string): unknown {
    if (typeof value === 'string') return this.#text(value, () => path, 'value', name) ?? redactionMark('unscanned');
    if (value === null || typeof value !== 'object') return value;
    if (depth >= this.#maxDepth) {
      this.truncated = true;
      return redactionMark('unscanned');
    }
    if (Array.isArray(value)) {
      const items = value.map((item, index) => this.value(item, `${path}/${index}`, depth + 1));
      return this.#redact ? items : undefined;
    }
    const entries: Array<[string, unknown]> = [];
    for (const key of Object.keys(value)) {
      // Paths are built from the redacted key, so a secret used as a key never shows in one.
      const memberPath = (safeKey: string): string => `${path}/${pointerSegment(safeKey)}`;
      const safeKey = this.#text(key, memberPath, 'key') ?? redactionMark('unscanned');
      const copy = this.value((value as Record<string, unknown>)[key], memberPath(safeKey), depth + 1, key);
      if (this.#redact) entries.push([safeKey, copy]);
    }
    // Object.fromEntries defines own properties: a key such as "__proto__" stays a key.
    return this.#redact ? Object.fromEntries(entries) : undefined;
  }
}

/**
 * Where the secrets in a JSON value are (kinds and JSON Pointers; never the secrets).
 *
 * @example
 * scanValue({ content: [{ type: 'text', text: 'key AKIAIOSFODNN7EXAMPLE' }] });
 * // { findings: [{ kind: 'aws-access-key-id', path: '/content/0/text', where: 'value' }], truncated: false }
 */
export function scanValue(value: unknown, options: ScanOptions = {}): ScanResult {
  const walk = new Walk(options, false);
  walk.value(value, '', 0);
  return { findings: walk.findings, truncated: walk.truncated };
}

/** A deep copy of `value` with every secret replaced (see the module header for the bounds). */
export function redactValue(value: unknown, options: ScanOptions = {}): unknown {
  return redactWithFindings(value, options).value;
}

/** {@link redactValue} and {@link scanValue} in one pass. */
export function redactWithFindings(value: unknown, options: ScanOptions = {}): ScanResult & { readonly value: unknown } {
  const walk = new Walk(options, true);
  const copy = walk.value(value, '', 0);
  return { value: copy, findings: walk.findings, truncated: walk.truncated };
}

/** What the gateway does with secrets in responses. */
export type SecretPolicy = 'off' | 'redact' | 'block';

export const SECRET_POLICIES: readonly SecretPolicy[] = ['off', 'redact', 'block'];

/** The decision for one response. */
export type SecretPolicyOutcome =
  /** Send `value` (the original: policy off, or nothing found and everything scanned). */
  | { readonly action: 'pass'; readonly value: unknown; readonly findings: readonly SecretFinding[]; readonly truncated: boolean }
  /** Send `value`, the redacted copy. */
  | { readonly action: 'redacted'; readonly value: unknown; readonly findings: readonly SecretFinding[]; readonly truncated: boolean }
  /** Send an error instead: secrets were found, or the value could not be scanned whole. */
  | { readonly action: 'blocked'; readonly findings: readonly SecretFinding[]; readonly truncated: boolean };

/**
 * Applies a response policy: `off` passes the value unscanned; `redact` passes a redacted copy
 * when anything was found or left unscanned; `block` blocks when anything was found or left
 * unscanned (fail closed), else passes the original.
 *
 * @example
 * const outcome = applySecretPolicy(result, 'redact');
 * if (outcome.action === 'blocked') throw refusal; else send(outcome.value);
 */
export function applySecretPolicy(value: unknown, policy: SecretPolicy, options: ScanOptions = {}): SecretPolicyOutcome {
  if (policy === 'off') return { action: 'pass', value, findings: [], truncated: false };
  if (policy === 'block') {
    const { findings, truncated } = scanValue(value, options);
    return findings.length > 0 || truncated ? { action: 'blocked', findings, truncated } : { action: 'pass', value, findings, truncated };
  }
  const redacted = redactWithFindings(value, options);
  if (redacted.findings.length === 0 && !redacted.truncated) return { action: 'pass', value, findings: [], truncated: false };
  return { action: 'redacted', value: redacted.value, findings: redacted.findings, truncated: redacted.truncated };
}
