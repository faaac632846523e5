/**
 * @module cli/gateway
 * `mcp-warden gateway pin --config <file> [--lock <file>] [--upstream <name>]... [--dry-run]`:
 * lists each upstream's tools and records their digests in the lock file (default
 * `mcp-warden.lock.json` beside the config), then prints what changed per upstream. A running
 * gateway hides a tool whose definition no longer matches its pin until the operator re-pins.
 *
 * - Without `--upstream`, every configured upstream is pinned and upstreams no longer in the
 *   config are dropped from the lock; with it, only the named ones change (re-pin the one you
 *   reviewed without accepting changes elsewhere).
 * - If any upstream cannot be listed, nothing is written (exit 1): a lock is never half updated.
 * - The lock is read first (refused if someone else could change it: exit 2, nothing attempted),
 *   and re-read and written under `<lock>.lock`, so two runs cannot lose each other's pins.
 *   When nothing changed, the file is left as it is (no reload on a running gateway).
 * - Exit codes (`cli/exit-codes`): 0 written or unchanged or dry run; 1 an upstream could not be
 *   listed, two tools share a name, or the lock could not be written; 2 usage or configuration
 *   (no config, unknown upstream, invalid config, untrusted or invalid lock file).
 *
 * The listing itself (reading the config, connecting through the upstream layer, `tools/list`)
 * is a {@link ToolLister}: `gateway/lister` by default, injectable so tests can drive the
 * command's own logic alone.
 *
 * @example
 * mcp-warden gateway pin --config ./mcp-warden.json                 # pin everything
 * mcp-warden gateway pin --config ./mcp-warden.json --upstream files --dry-run
 */

import { Option, type Command } from 'commander';
import { isWardenError } from '../errors.js';
import { sanitizeForTerminal } from '../operator/check/report.js';
import {
  defaultLockPath,
  diffChanges,
  pinAll,
  readLock,
  unpinUpstream,
  updateLock,
  type PinDiff,
  type PinLock,
  type ToolDefinition,
} from '../gateway/pinning.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './exit-codes.js';

/** One upstream's tools as listed now, or why they could not be. */
export type UpstreamListing =
  | { readonly upstream: string; readonly ok: true; readonly tools: readonly ToolDefinition[] }
  | { readonly upstream: string; readonly ok: false; readonly error: string };

/** What to list: the configured upstreams (all, or only `upstreams`). */
export interface ListRequest {
  readonly configPath: string;
  /** Only these upstreams; undefined: every configured one. */
  readonly upstreams: readonly string[] | undefined;
}

/**
 * Lists tools per upstream. Returns one listing per configured upstream asked for (a name that is
 * not configured is simply absent); throws a WardenError with code `WARDEN_ERR_CONFIG` when the
 * config itself is invalid. Any other throw counts as a failure to list.
 */
export type ToolLister = (request: ListRequest) => Promise<readonly UpstreamListing[]>;

/** Where the command writes; injectable so tests can capture it. */
export interface GatewayIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface PinCommandOptions {
  readonly config?: string | undefined;
  readonly lock?: string | undefined;
  readonly upstream?: readonly string[] | undefined;
  readonly dryRun?: boolean | undefined;
}

export interface PinDependencies {
  readonly list: ToolLister;
  readonly io?: GatewayIo;
  /** Clock for `pinnedAt` (default `Date.now`). */
  readonly now?: () => number;
}

function processIo(): GatewayIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

const show = (text: string): string => sanitizeForTerminal(text);

function describeDiff(diff: PinDiff): string {
  const { added, changed, removed, unchanged } = diff;
  if (!diffChanges(diff)) return `${show(diff.upstream)}: up to date (${unchanged.length} tool${unchanged.length === 1 ? '' : 's'})\n`;
  const lines = [`${show(diff.upstream)}: ${added.length} added, ${changed.length} changed, ${removed.length} removed, ${unchanged.length} unchanged`];
  for (const name of added) lines.push(`  + ${show(name)}`);
  for (const name of changed) lines.push(`  ~ ${show(name)}`);
  for (const name of removed) lines.push(`  - ${show(name)}`);
  return `${lines.join('\n')}\n`;
}

interface Plan {
  readonly lock: PinLock | undefined;
  readonly report: string;
}

/** The next lock from the current one and the listings, and the text describing it. */
function plan(current: PinLock, listings: ReadonlyArray<Extract<UpstreamListing, { ok: true }>>, pinEverything: boolean, now: number): Plan {
  let lock = current;
  let changed = false;
  let report = '';
  for (const listing of listings) {
    const result = pinAll(lock, listing.upstream, listing.tools, now);
    lock = result.lock;
    changed ||= diffChanges(result.diff) || !current.upstreams.has(listing.upstream);
    report += describeDiff(result.diff);
  }
  if (pinEverything) {
    const listed = new Set(listings.map((listing) => listing.upstream));
    for (const upstream of [...current.upstreams.keys()].filter((name) => !listed.has(name)).sort()) {
      const result = unpinUpstream(lock, upstream);
      lock = result.lock;
      changed = true;
      report += `${show(upstream)}: no longer configured, ${result.removed.length} pin${result.removed.length === 1 ? '' : 's'} removed\n`;
    }
  }
  return { lock: changed ? lock : undefined, report };
}

/**
 * Runs `gateway pin` and returns its exit code.
 *
 * @example
 * const code = await runGatewayPin({ config: 'mcp-warden.json' }, { list: listThroughUpstreams });
 */
export async function runGatewayPin(options: PinCommandOptions, dependencies: PinDependencies): Promise<number> {
  const io = dependencies.io ?? processIo();
  const fail = (code: number, message: string): number => {
    io.stderr.write(`mcp-warden gateway pin: ${message}\n`);
    return code;
  };
  const configPath = options.config ?? (io.env['MCP_CONFIG'] === '' ? undefined : io.env['MCP_CONFIG']);
  if (configPath === undefined) return fail(EXIT_USAGE, '--config (or MCP_CONFIG) is required: the config file whose upstreams to pin');
  const lockPath = options.lock ?? defaultLockPath(configPath);
  const only = options.upstream === undefined || options.upstream.length === 0 ? undefined : [...new Set(options.upstream)];

  // The lock is checked before any upstream is contacted: an untrusted file is a configuration error.
  try {
    readLock(lockPath, { allowMissing: true });
  } catch (error) {
    if (isWardenError(error)) return fail(EXIT_USAGE, error.message);
    throw error;
  }

  let listings: readonly UpstreamListing[];
  try {
    listings = await dependencies.list({ configPath, upstreams: only });
  } catch (error) {
    if (isWardenError(error) && error.code === 'WARDEN_ERR_CONFIG') return fail(EXIT_USAGE, error.message);
    return fail(EXIT_FAILED, `could not list the upstreams' tools: ${(error as Error).message}`);
  }
  const unknown = (only ?? []).filter((name) => !listings.some((listing) => listing.upstream === name));
  if (unknown.length > 0) return fail(EXIT_USAGE, `no upstream named ${unknown.map((name) => JSON.stringify(show(name))).join(', ')} in ${configPath}`);
  const failed = listings.filter((listing): listing is Extract<UpstreamListing, { ok: false }> => !listing.ok);
  if (failed.length > 0) {
    for (const listing of failed) io.stderr.write(`mcp-warden gateway pin: ${show(listing.upstream)}: ${show(listing.error)}\n`);
    return fail(EXIT_FAILED, `nothing written: ${failed.length} upstream${failed.length === 1 ? '' : 's'} could not be listed (pin the others with --upstream)`);
  }
  const ok = listings.filter((listing): listing is Extract<UpstreamListing, { ok: true }> => listing.ok);
  const now = (dependencies.now ?? Date.now)();

  let result: Plan;
  try {
    result = options.dryRun === true ? plan(readLock(lockPath, { allowMissing: true }), ok, only === undefined, now) : updateLock(lockPath, (current) => plan(current, ok, only === undefined, now));
  } catch (error) {
    if (isWardenError(error)) return fail(EXIT_FAILED, error.message);
    return fail(EXIT_FAILED, `${lockPath}: could not be written: ${(error as Error).message}`);
  }
  io.stdout.write(result.report);
  if (options.dryRun === true) io.stdout.write(`dry run: ${result.lock === undefined ? 'nothing would change' : `${lockPath} would change`}; nothing written\n`);
  else io.stdout.write(result.lock === undefined ? `${lockPath}: unchanged\n` : `wrote ${lockPath}\n`);
  return EXIT_OK;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * The real lister (`gateway/lister`): connects to each upstream through the upstream layer,
 * lists, closes. Loaded on use; the upstream layer's log lines (a child's stderr, warnings) go
 * to stderr, so stdout carries only the report.
 */
const realLister: ToolLister = async (request) => {
  const [{ upstreamToolLister }, { default: pino }] = await Promise.all([import('../gateway/lister.js'), import('pino')]);
  const logger = pino({ level: 'warn' }, pino.destination({ fd: 2, sync: true }));
  return upstreamToolLister({ env: process.env, logger })(request);
};

/**
 * Adds `mcp-warden gateway pin` to `program`. `list` connects to the upstreams (injectable);
 * `exit` ends the process (injectable for tests).
 */
export function registerGateway(program: Command, dependencies: Partial<PinDependencies> & { exit?: (code: number) => void } = {}): void {
  const gateway = program.command('gateway').description('work with the gateway in front of other MCP servers');
  gateway
    .command('pin')
    .description("record each upstream tool's definition digest in the lock file; a changed tool is then hidden until re-pinned")
    .addOption(new Option('--config <file>', 'config file with the upstreams (mcpServers)').env('MCP_CONFIG'))
    .option('--lock <file>', 'lock file to write (default: mcp-warden.lock.json beside the config)')
    .option('--upstream <name>', 'pin only this upstream (repeatable); others keep their pins', collect)
    .option('--dry-run', 'print what would change and write nothing')
    .action(async (options: PinCommandOptions) => {
      const code = await runGatewayPin(options, { list: dependencies.list ?? realLister, io: dependencies.io ?? processIo(), now: dependencies.now ?? Date.now });
      if (code !== EXIT_OK) (dependencies.exit ?? ((exitCode: number) => (process.exitCode = exitCode)))(code);
    });
}
