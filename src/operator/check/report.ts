/**
 * @module operator/check/report
 * The two renderings of a report: one line per check for people (colour only when asked,
 * i.e. on a TTY without NO_COLOR) and one JSON document for machines. Text that came from
 * the target (header values, tool names, excerpts) is stripped of control characters before
 * it reaches a terminal, so a hostile server cannot inject escape sequences.
 */

import { describeEras } from './eras.js';
import type { CheckReport, CheckStatus } from './types.js';

const ANSI: Readonly<Record<CheckStatus | 'dim' | 'bold' | 'reset', string>> = {
  PASS: '\u001b[32m',
  FAIL: '\u001b[31m',
  WARN: '\u001b[33m',
  SKIP: '\u001b[90m',
  dim: '\u001b[2m',
  bold: '\u001b[1m',
  reset: '\u001b[0m',
};

const NAME_WIDTH = 10;

/** Replaces C0/C1 controls and bidirectional overrides with a visible "?" (one line, no escapes). */
export function sanitizeForTerminal(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '?');
}

export interface TextOptions {
  readonly color: boolean;
}

/**
 * The eras the server speaks, one line per check, then a summary naming the failed checks.
 *
 * @example
 * renderText(report, { color: false });
 * // "mcp-warden check http://127.0.0.1:8443/mcp\nEras: 2026-07-28, 2025-11-25\n\nPASS  health    GET /health → 200 in 2 ms  [...]\n..."
 */
export function renderText(report: CheckReport, options: TextOptions): string {
  const paint = (code: keyof typeof ANSI, text: string): string => (options.color ? `${ANSI[code]}${text}${ANSI.reset}` : text);
  const lines = [`mcp-warden check ${sanitizeForTerminal(report.target)}`];
  // Versions and refusals come from the server: sanitised like every other text it sent.
  if (report.eraProbe !== undefined) lines.push(`Eras: ${sanitizeForTerminal(describeEras({ eras: report.eras ?? [], ...report.eraProbe }))}`);
  lines.push('');
  for (const result of report.results) {
    const reason = sanitizeForTerminal(result.reason);
    lines.push(`${paint(result.status, result.status)}  ${result.test.padEnd(NAME_WIDTH)}${reason}  ${paint('dim', `[${result.reference}]`)}`);
  }
  const { summary } = report;
  const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;
  lines.push(
    '',
    `${plural(summary.total, 'check')}: ${summary.pass} passed, ${summary.fail} failed, ${plural(summary.warn, 'warning')}, ${summary.skip} skipped (${(report.durationMs / 1000).toFixed(1)} s)`,
  );
  if (summary.failed.length > 0) lines.push(paint('FAIL', `Failed: ${summary.failed.join(', ')}`));
  return `${lines.join('\n')}\n`;
}

/** The report as one JSON document (control characters are escaped by JSON itself). */
export function renderJson(report: CheckReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** Colour only for a terminal, and never when NO_COLOR is set to anything non-empty (no-color.org). */
export function useColor(isTTY: boolean | undefined, env: Readonly<Record<string, string | undefined>>): boolean {
  return isTTY === true && (env['NO_COLOR'] === undefined || env['NO_COLOR'] === '');
}
