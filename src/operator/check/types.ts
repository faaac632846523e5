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
export const CHECK_NAMES = ['health', 'auth', 'origin', 'protocol', 'modern', 'cors', 'headers', 'errors', 'mcp', 'rate'] as const;
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
  /** What the spec requires, where a step compares one answer with it ("400 -32020"). */
  readonly expected?: string;
  /** What the server answered, in the same terms ("200"). */
  readonly got?: string;
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

/** Whether the server speaks an era: `unknown` when the probe was refused for the client's sake (auth, ban, 429, 5xx, no answer). */
export type EraState = 'spoken' | 'not spoken' | 'unknown';

/** What the era probe found (see operator/check/eras). */
export interface EraProbe {
  /** The revisions the server was seen to speak, modern first, e.g. ["2026-07-28", "2025-11-25"]. */
  readonly eras: readonly string[];
  /** The `server/discover` probe. */
  readonly modern: {
    readonly state: EraState;
    /** The modern revision probed. */
    readonly version: string;
    readonly observed: string;
    /** The versions the server listed (discover result, or a -32022 error's data.supported). */
    readonly supportedVersions?: readonly string[];
  };
  /** The `initialize` probe. */
  readonly legacy: {
    readonly state: EraState;
    /** The version the server negotiated, when spoken. */
    readonly version?: string;
    readonly observed: string;
  };
}

/** What probing needs: the options and the HTTP client. */
export interface ProbeContext {
  readonly options: CheckOptions;
  readonly http: Prober;
}

/** Everything a check may use. */
export interface CheckContext extends ProbeContext {
  /** The eras found before any check ran (all `unknown` when the probe did not run). */
  readonly eras: EraProbe;
}

export interface CheckDefinition {
  readonly name: CheckName;
  /** A short description for `--help` and the README. */
  readonly summary: string;
  readonly reference: string;
  /** True when the check adapts to the eras the server speaks; the era probe runs only if a selected check does. */
  readonly usesEras: boolean;
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
  /**
   * The revisions the server speaks, modern first (empty when none could be seen). Present, with
   * `eraProbe`, when the era probe ran: the target was reachable and a selected check uses eras.
   */
  readonly eras?: readonly string[];
  /** How each era was probed and what was seen. */
  readonly eraProbe?: Pick<EraProbe, 'modern' | 'legacy'>;
  readonly results: readonly CheckResult[];
  readonly summary: ReportSummary;
}
