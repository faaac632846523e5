/**
 * Runs the official MCP conformance suite (`@modelcontextprotocol/conformance`, pinned in
 * package.json) against a URL and reads its results, plus the baseline of scenarios allowed to
 * fail (baseline.yml). The CLI runs in a child process under the Node 20 shim (node20-shim/), with
 * a hard time limit; results come from the `checks.json` it writes per scenario, never from its
 * console text.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const SHIM = path.join(HERE, 'node20-shim/register.mjs');
const PACKAGE_DIR = path.dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/package.json'));
const CLI = path.join(PACKAGE_DIR, 'dist/index.js');

/** One check of a scenario, as the suite writes it (`SUCCESS`, `FAILURE`, `WARNING`, `SKIPPED`, `INFO`). */
export interface Check {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly errorMessage?: string;
}

/** Scenario name → its checks. */
export type SuiteResults = ReadonlyMap<string, readonly Check[]>;

export interface SuiteRun {
  readonly results: SuiteResults;
  /** What the CLI printed (stdout then stderr), for a failure message. */
  readonly output: string;
  readonly exitCode: number | null;
  readonly ms: number;
}

export interface RunOptions {
  /** The MCP endpoint (`http://127.0.0.1:<port>/mcp`). */
  readonly url: string;
  /** Selection, e.g. `['--requirements', '2026-07-28']` or `['--scenario', 'caching']`. */
  readonly select: readonly string[];
  /** Kill the CLI after this long (default 120 s). */
  readonly timeoutMs?: number;
  /** Per-scenario limit passed to the CLI (default 15 s; the CLI's own default is 30 s). */
  readonly scenarioTimeoutMs?: number;
}

/**
 * Runs `conformance server --url <url> <select...>` and parses every scenario's checks.
 *
 * @example
 * const run = await runSuite({ url: `${proxy.url}/mcp`, select: ['--requirements', '2026-07-28'] });
 * const failing = failures(run.results);
 */
export async function runSuite(options: RunOptions): Promise<SuiteRun> {
  const outputDir = mkdtempSync(path.join(tmpdir(), 'mcp-warden-conformance-'));
  const started = Date.now();
  try {
    const args = [
      '--import',
      SHIM,
      CLI,
      'server',
      '--url',
      options.url,
      ...options.select,
      '--timeout',
      String(options.scenarioTimeoutMs ?? 15_000),
      '-o',
      outputDir,
    ];
    const { exitCode, output } = await runBounded(process.execPath, args, options.timeoutMs ?? 120_000);
    return { results: readResults(outputDir), output, exitCode, ms: Date.now() - started };
  } finally {
    rmSync(outputDir, { recursive: true, force: true });
  }
}

function runBounded(command: string, args: string[], timeoutMs: number): Promise<{ exitCode: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      const output = Buffer.concat([...out, ...err]).toString('utf8');
      if (signal === 'SIGKILL') reject(new Error(`conformance CLI killed after ${timeoutMs} ms\n${output}`));
      else resolve({ exitCode, output });
    });
  });
}

const NO_CHECKS: Check = {
  id: 'no-checks-json',
  name: 'NoChecksJson',
  status: 'FAILURE',
  errorMessage: 'the scenario wrote no checks.json (it threw; see the CLI output)',
};

/** The CLI writes `<dir>/server-<scenario>-<ISO time with dashes>/checks.json` per scenario. */
function readResults(outputDir: string): SuiteResults {
  const results = new Map<string, readonly Check[]>();
  for (const entry of readdirSync(outputDir)) {
    const match = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry);
    if (!match) continue;
    const file = path.join(outputDir, entry, 'checks.json');
    // A scenario that threw leaves a directory without checks.json: count it as one failure.
    const checks = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Check[]) : [NO_CHECKS];
    results.set(match[1] as string, checks);
  }
  return results;
}

/** Every FAILURE check, as `scenario` + check. */
export function failures(results: SuiteResults): Array<{ scenario: string; check: Check }> {
  return [...results].flatMap(([scenario, checks]) => checks.filter((check) => check.status === 'FAILURE').map((check) => ({ scenario, check })));
}

/** The server scenarios a revision's frozen requirements name (scored and not scored), from the installed package. */
export function requiredScenarios(revision: string): { scored: string[]; notScored: string[] } {
  const file = parse(readFileSync(path.join(PACKAGE_DIR, 'requirements', `${revision}.yaml`), 'utf8')) as {
    server?: string[];
    not_scored?: Array<{ scenario: string; leg: string }>;
  };
  return {
    scored: file.server ?? [],
    notScored: (file.not_scored ?? []).filter((entry) => entry.leg === 'server').map((entry) => entry.scenario),
  };
}

/** One baseline entry: a whole scenario, or one check of it, allowed to fail, and why. */
export interface BaselineEntry {
  readonly scenario: string;
  readonly check?: string;
  readonly reason: string;
}

/** Which server a baseline section is for. */
export type BaselineServer = 'mcp-warden' | 'sdk-reference';

/**
 * Reads one section of baseline.yml (`<server>: <revision>: [...]`): a list of
 * `{ scenario, check?, reason }`; every entry needs a reason (an empty section is `[]`).
 */
export function readBaseline(server: BaselineServer, revision: string, file = path.join(HERE, 'baseline.yml')): BaselineEntry[] {
  const parsed = parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown> | undefined> | null;
  const entries = parsed?.[server]?.[revision];
  const where = `${file}: ${server} ${revision}`;
  if (!Array.isArray(entries)) throw new Error(`${where} must be a list`);
  return entries.map((entry: unknown, index) => {
    const { scenario, check, reason } = (entry ?? {}) as Record<string, unknown>;
    if (typeof scenario !== 'string' || scenario === '') throw new Error(`${where}: entry ${index} has no scenario`);
    if (typeof reason !== 'string' || reason.trim() === '') throw new Error(`${where}: ${scenario} has no reason`);
    if (check !== undefined && typeof check !== 'string') throw new Error(`${where}: ${scenario} check must be a string`);
    return { scenario, reason, ...(check === undefined ? {} : { check }) };
  });
}

/** Whether `entry` allows this failing check. */
export function covers(entry: BaselineEntry, scenario: string, check: Check): boolean {
  return entry.scenario === scenario && (entry.check === undefined || entry.check === check.id);
}
