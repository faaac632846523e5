/**
 * @module operator/check/runner
 * Runs the selected checks one after another (an audit should not load the target more
 * than a client would) and assembles the report. Before the first check it probes which
 * protocol eras the server speaks (operator/check/eras), so checks can adapt and the report
 * can say. Nothing a check throws escapes: a lost connection becomes a FAIL with a one-line
 * reason, never a stack trace.
 */

import { VERSION } from '../../version.js';
import { detectEras, unprobed } from './eras.js';
import { displayUrl, ProbeError } from './net-errors.js';
import { Prober } from './probe.js';
import { assertReachable } from './reach.js';
import { CHECKS } from './registry.js';
import type { CheckContext, CheckName, CheckOptions, CheckReport, CheckResult, CheckStatus, EraProbe, ProbeContext, ReportSummary } from './types.js';

const MAX_REASON = 160;

function failure(test: CheckName, reason: string): CheckResult {
  return { test, status: 'FAIL', reason, reference: CHECKS[test].reference };
}

async function runOne(test: CheckName, context: CheckContext): Promise<CheckResult> {
  try {
    const outcome = await CHECKS[test].run(context);
    return { test, ...outcome };
  } catch (error) {
    if (error instanceof ProbeError) return failure(test, error.message);
    // A bug in a check (or an answer it did not foresee) is reported, not thrown.
    return failure(test, `check failed unexpectedly: ${String((error as Error)?.message ?? error).slice(0, MAX_REASON)}`);
  }
}

async function probeEras(context: ProbeContext): Promise<EraProbe> {
  try {
    return await detectEras(context);
  } catch (error) {
    return unprobed(`era probe failed unexpectedly: ${String((error as Error)?.message ?? error).slice(0, MAX_REASON)}`);
  }
}

export function summarize(results: readonly CheckResult[]): ReportSummary {
  const count = (status: CheckStatus): number => results.filter((result) => result.status === status).length;
  return {
    total: results.length,
    pass: count('PASS'),
    fail: count('FAIL'),
    warn: count('WARN'),
    skip: count('SKIP'),
    failed: results.filter((result) => result.status === 'FAIL').map((result) => result.test),
  };
}

/**
 * Audits the target described by `options`.
 *
 * @example
 * const report = await runAudit(parseCheckOptions({ url: 'http://127.0.0.1:8443/mcp', apiKey }));
 * report.summary.failed; // []
 */
export async function runAudit(options: Readonly<CheckOptions>): Promise<CheckReport> {
  const started = Date.now();
  const probing: ProbeContext = { options, http: new Prober({ timeoutMs: options.timeoutMs }) };
  let unreachable: string | undefined;
  try {
    await assertReachable(options.url, options.timeoutMs);
  } catch (error) {
    unreachable = error instanceof ProbeError ? error.message : `cannot reach ${displayUrl(options.url)}`;
  }
  // Once per audit, before any check, and only if a selected check adapts to the eras: a
  // `--test rate` audit must count its own requests from the first one.
  const probed = unreachable === undefined && options.tests.some((test) => CHECKS[test].usesEras) ? await probeEras(probing) : undefined;
  const context: CheckContext = { ...probing, eras: probed ?? unprobed(unreachable ?? 'not probed') };
  const results: CheckResult[] = [];
  for (const test of options.tests) {
    // Without a connection nothing was verified, and an unverified audit must not pass.
    results.push(unreachable === undefined ? await runOne(test, context) : failure(test, unreachable));
  }
  return {
    tool: `mcp-warden ${VERSION}`,
    target: displayUrl(options.url),
    healthUrl: displayUrl(options.healthUrl),
    time: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    ...(unreachable === undefined ? {} : { unreachable }),
    ...(probed === undefined ? {} : { eras: probed.eras, eraProbe: { modern: probed.modern, legacy: probed.legacy } }),
    results,
    summary: summarize(results),
  };
}
