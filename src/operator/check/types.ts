/**
 * @module operator/check/types
 * The vocabulary of `mcp-warden check`: statuses, one check's result, the report, and the
 * contract every check implements. A check gets a {@link CheckContext} and returns a
 * {@link CheckOutcome}; the runner adds its name and catches whatever it throws.
 */

import type { Prober } from './probe.js';

/** PASS: verified. FAIL: a security property is missing. WARN: weaker than advised. SKIP: could not be tested. */
export type CheckStatus = 'PASS' | 'FAIL' | 'WARN' | 'SKIP';

/** The names accepted by `--test`, in the order they run. */
export const CHECK_NAMES = ['health', 'auth', 'origin', 'protocol', 'cors', 'headers', 'errors', 'mcp', 'rate'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** The tests run when `--test` is not given: all but `rate`, which spends the target's quota. */
export const DEFAULT_CHECKS: readonly CheckName[] = CHECK_NAMES.filter((name) => name !== 'rate');

/** Validated options of one audit. */
export interface CheckOptions {
  /** The MCP endpoint, e.g. http://127.0.0.1:8443/mcp. */
  readonly url: URL;
  /** The public health endpoint (default: /health on the MCP endpoint's origin). */
  readonly healthUrl: URL;
  readonly apiKey: string | undefined;
  readonly tests: readonly CheckName[];
  /** The foreign origin sent by the origin and cors checks. */
  readonly origin: string;
  /** Per-request timeout in milliseconds. */
  readonly timeoutMs: number;
  /** Most requests the rate check may send. */
  readonly maxRequests: number;
  /** Let the mcp check call every tool (tools can have side effects). */
  readonly callTools: boolean;
}

/** One observation inside a check ("no key → 401"), with its own verdict. */
export interface Step {
  readonly name: string;
  readonly status: CheckStatus;
  readonly observed: string;
}

/** What a check returns; the runner adds the check's name. */
export interface CheckOutcome {
  readonly status: CheckStatus;
  /** One line, no trailing period. */
  readonly reason: string;
  /** The spec, RFC or OWASP section the check verifies. */
  readonly reference: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface CheckResult extends CheckOutcome {
  readonly test: CheckName;
}

/** Everything a check may use. */
export interface CheckContext {
  readonly options: CheckOptions;
  readonly http: Prober;
}

export interface CheckDefinition {
  readonly name: CheckName;
  /** A short description for `--help` and the README. */
  readonly summary: string;
  readonly reference: string;
  run(context: CheckContext): Promise<CheckOutcome>;
}

export interface ReportSummary {
  readonly total: number;
  readonly pass: number;
  readonly fail: number;
  readonly warn: number;
  readonly skip: number;
  /** Names of the checks that failed. */
  readonly failed: readonly CheckName[];
}

/** The machine-readable report (`--json`). Never contains the API key. */
export interface CheckReport {
  readonly tool: string;
  readonly target: string;
  readonly healthUrl: string;
  readonly time: string;
  readonly durationMs: number;
  /** Set when the target could not be reached at all. */
  readonly unreachable?: string;
  readonly results: readonly CheckResult[];
  readonly summary: ReportSummary;
}
