/**
 * @module operator/check/steps
 * Most checks make several observations ("no key → 401", "wrong key → 401", ...). Each is a
 * {@link Step} with its own verdict; {@link combine} folds them into one result whose status
 * is the worst seen (FAIL > WARN > PASS > SKIP) and whose reason names what decided it.
 */

import type { CheckOutcome, CheckStatus, Step } from './types.js';

/** One observation; `comparison` records what was expected and what was got, for the JSON report. */
export function step(name: string, status: CheckStatus, observed: string, comparison?: { readonly expected: string; readonly got: string }): Step {
  return comparison === undefined ? { name, status, observed } : { name, status, observed, expected: comparison.expected, got: comparison.got };
}

function texts(steps: readonly Step[], status: CheckStatus): string[] {
  return steps.filter((item) => item.status === status).map((item) => item.observed);
}

/** The worst status among `statuses` (SKIP when empty). */
export function worst(statuses: readonly CheckStatus[]): CheckStatus {
  for (const status of ['FAIL', 'WARN', 'PASS'] as const) if (statuses.includes(status)) return status;
  return 'SKIP';
}

/**
 * Folds steps into one outcome.
 *
 * @example
 * combine([step('no key', 'PASS', 'no key → 401'), step('wrong key', 'FAIL', 'a wrong key → 200')], 'RFC 6750 §3.1');
 * // { status: 'FAIL', reason: 'a wrong key → 200', ... }
 */
export function combine(steps: readonly Step[], reference: string, extra: Readonly<Record<string, unknown>> = {}): CheckOutcome {
  const status = worst(steps.map((item) => item.status));
  const skipped = texts(steps, 'SKIP');
  let reason: string;
  if (status === 'SKIP') {
    reason = skipped.join('; ');
  } else {
    reason = texts(steps, status).join('; ');
    // A pass that could not test everything says what it left out.
    if (status === 'PASS' && skipped.length > 0) reason += `; not tested: ${skipped.join('; ')}`;
  }
  return { status, reason, reference, details: { ...extra, steps } };
}
