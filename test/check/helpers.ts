/**
 * Helpers for the `mcp-warden check` tests: a captured stdout/stderr pair, and a way to look
 * up one check's result in a report.
 */

import type { CheckIo } from '../../src/cli/check.js';
import type { CheckName, CheckReport, CheckResult } from '../../src/operator/check/types.js';

export interface CapturedIo {
  readonly io: CheckIo;
  stdout(): string;
  stderr(): string;
}

export function captureIo(options: { isTTY?: boolean; env?: Record<string, string> } = {}): CapturedIo {
  let stdout = '';
  let stderr = '';
  return {
    io: {
      stdout: { write: (text: string) => (stdout += text), isTTY: options.isTTY ?? false },
      stderr: { write: (text: string) => (stderr += text) },
      env: options.env ?? {},
    },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

export function resultOf(report: CheckReport | undefined, test: CheckName): CheckResult {
  const result = report?.results.find((item) => item.test === test);
  if (result === undefined) throw new Error(`no result for ${test}`);
  return result;
}

/** The status of each check as printed in the text report (`PASS  auth  ...`). */
export function textStatuses(text: string): Record<string, string> {
  const statuses: Record<string, string> = {};
  for (const match of text.matchAll(/^(PASS|FAIL|WARN|SKIP) {2}(\w+) /gm)) statuses[match[2] as string] = match[1] as string;
  return statuses;
}

/** A stack frame as V8 prints it. */
export const STACK_FRAME = /\n\s+at .+:\d+:\d+/;
