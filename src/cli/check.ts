/**
 * @module cli/check
 * `mcp-warden check`: a security audit of a running MCP server over HTTP, ours or anyone's.
 * Prints the protocol eras the server speaks (2026-07-28 and/or a 2025 revision), then one
 * line per check (or one JSON report with `--json`) and exits 1 when any check
 * fails, 0 otherwise, 2 on bad usage. An unreachable target gives one clear sentence.
 *
 * @example
 * MCP_API_KEY="$KEY" mcp-warden check --url http://127.0.0.1:8443/mcp   # key from the environment, not argv
 */

import { Option, type Command } from 'commander';
import { CheckUsageError, DEFAULT_MAX_REQUESTS, DEFAULT_ORIGIN, DEFAULT_TIMEOUT_MS, parseCheckOptions, type RawCheckOptions } from '../operator/check/options.js';
import { renderJson, renderText, sanitizeForTerminal, useColor } from '../operator/check/report.js';
import { runAudit } from '../operator/check/runner.js';
import { CHECK_NAMES, type CheckReport } from '../operator/check/types.js';
import { EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE } from './exit-codes.js';

/** Where the command writes; injectable so tests can capture it. */
export interface CheckIo {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface CheckCommandOptions extends RawCheckOptions {
  readonly json?: boolean;
}

export interface CheckRun {
  readonly exitCode: number;
  /** Undefined when the options were invalid. */
  readonly report: CheckReport | undefined;
}

function processIo(): CheckIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/**
 * Validates `options`, audits the target and writes the report.
 *
 * @example
 * const { exitCode, report } = await runCheck({ url: 'http://127.0.0.1:8443/mcp', apiKey: key, json: true });
 */
export async function runCheck(options: CheckCommandOptions, io: CheckIo = processIo()): Promise<CheckRun> {
  let parsed;
  try {
    parsed = parseCheckOptions(options);
  } catch (error) {
    if (!(error instanceof CheckUsageError)) throw error;
    for (const problem of error.problems) io.stderr.write(`mcp-warden check: ${problem}\n`);
    io.stderr.write('(run mcp-warden check --help for usage)\n');
    return { exitCode: EXIT_USAGE, report: undefined };
  }
  const report = await runAudit(parsed);
  if (report.unreachable !== undefined) io.stderr.write(`mcp-warden check: ${sanitizeForTerminal(report.unreachable)}\n`);
  io.stdout.write(options.json === true ? renderJson(report) : renderText(report, { color: useColor(io.stdout.isTTY, io.env) }));
  return { exitCode: report.summary.fail > 0 ? EXIT_CHECK_FAILED : EXIT_OK, report };
}

/** Adds `mcp-warden check` to `program`. `io.exit` ends the process (injectable for tests). */
export function registerCheck(program: Command, io: CheckIo & { exit?: (code: number) => void } = processIo()): void {
  program
    .command('check')
    .description("audit the security of a running MCP server over HTTP (ours or anyone's), in each protocol era it speaks; exit 1 if any check fails")
    .requiredOption('--url <url>', 'the MCP endpoint, e.g. http://127.0.0.1:8443/mcp')
    .addOption(new Option('--api-key <key>', 'key sent as Authorization: Bearer (prefer the environment: keys on the command line show in ps)').env('MCP_API_KEY'))
    .option('--test <names...>', `checks to run (space- or comma-separated, repeatable): ${CHECK_NAMES.join(', ')}, all (default: all but rate)`)
    .option('--json', 'print one JSON report on stdout and nothing else')
    .option('--origin <origin>', `the foreign origin the origin and cors checks send (default ${DEFAULT_ORIGIN})`)
    .option('--health-url <url>', 'the public health endpoint (default /health on the URL\'s origin; a bare path is taken on that origin)')
    .option('--timeout <ms>', `per-request timeout in milliseconds (default ${DEFAULT_TIMEOUT_MS})`)
    .option('--max-requests <n>', `most requests the rate check sends (default ${DEFAULT_MAX_REQUESTS})`)
    .option('--call-tools', 'let the mcp check call each tool once with minimal arguments (tools can have side effects)')
    .action(async (options: CheckCommandOptions) => {
      const { exitCode } = await runCheck(options, io);
      (io.exit ?? ((code: number) => process.exit(code)))(exitCode);
    });
}
