/**
 * @module cli/keys
 * `mcp-warden keys create|list|revoke|rotate`: the key lifecycle on a keys file. A new key is
 * printed once; only its hash is stored. A running server picks up every change without a
 * restart (file watch, SIGHUP).
 */

import type { Command } from 'commander';
import { isCidrOrAddress } from '../config/validators.js';
import { isWardenError } from '../errors.js';
import {
  createKeyRecord,
  keyStatus,
  parseDuration,
  parseExpiry,
  readKeysFile,
  updateKeysFile,
  type KeyFileRecord,
} from '../security/keys-file.js';
import { EXIT_FAILED, EXIT_USAGE } from './exit-codes.js';

class UsageError extends Error {}
/** The command was well-formed but names something that does not exist. */
class NotFoundError extends Error {}

function keysFileOf(options: { keysFile?: string }): string {
  const path = options.keysFile ?? process.env['MCP_KEYS_FILE'];
  if (path === undefined || path === '') throw new UsageError('--keys-file (or MCP_KEYS_FILE) is required');
  return path;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parseTools(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const tools = text.split(',').map((tool) => tool.trim()).filter((tool) => tool.length > 0);
  if (tools.length === 0 || tools.some((tool) => !/^[A-Za-z0-9_.:-]{1,128}$/.test(tool))) throw new UsageError('--tools expects a comma-separated list of tool names');
  return tools;
}

function parseRateLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 1_000_000) throw new UsageError('--rate-limit expects an integer from 1 to 1000000');
  return Number(text);
}

function parseIps(values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const bad = values.filter((value) => !isCidrOrAddress(value));
  if (bad.length > 0) throw new UsageError('--allow-ip expects IP addresses or CIDRs such as 10.0.0.0/8');
  return values;
}

function parseExpiryOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const expiresAt = parseExpiry(text);
  if (expiresAt === undefined) throw new UsageError('--expires expects a duration (90d, 12h, 2w) or a date (2027-01-01)');
  if (expiresAt <= Date.now()) throw new UsageError('--expires is in the past');
  return expiresAt;
}

function row(record: KeyFileRecord, now: number): Record<string, string> {
  return {
    id: record.id,
    name: record.name,
    prefix: record.prefix === undefined ? '' : `${record.prefix}…`,
    status: keyStatus(record, now),
    created: record.created.slice(0, 19).replace('T', ' '),
    expires: record.expires === undefined || record.expires === null ? 'never' : record.expires.slice(0, 19).replace('T', ' '),
    tools: record.tools === undefined || record.tools === null ? 'all' : record.tools.join(','),
    rateLimit: record.rateLimit === undefined || record.rateLimit === null ? '-' : String(record.rateLimit),
    allowIps: record.allowIps === undefined || record.allowIps === null ? 'any' : record.allowIps.join(','),
    operator: record.operator === true ? 'yes' : 'no',
  };
}

function table(rows: Array<Record<string, string>>): string {
  if (rows.length === 0) return 'no keys\n';
  const columns = Object.keys(rows[0] as Record<string, string>);
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((entry) => (entry[column] ?? '').length)));
  const line = (cells: string[]): string => cells.map((cell, index) => cell.padEnd(widths[index] as number)).join('  ').trimEnd();
  return [line(columns.map((column) => column.toUpperCase())), ...rows.map((entry) => line(columns.map((column) => entry[column] ?? '')))].join('\n') + '\n';
}

/** Runs an action, mapping usage errors to exit 2 and keys-file errors to exit 1, without stacks. */
function guarded<A extends unknown[]>(action: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      action(...args);
    } catch (error) {
      if (error instanceof UsageError) {
        process.stderr.write(`mcp-warden keys: ${error.message}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      if (isWardenError(error) || error instanceof NotFoundError) {
        process.stderr.write(`mcp-warden keys: ${error.message}\n`);
        process.exitCode = EXIT_FAILED;
        return;
      }
      throw error;
    }
  };
}

interface CreateOptions {
  keysFile?: string;
  name: string;
  expires?: string;
  tools?: string;
  rateLimit?: string;
  allowIp?: string[];
  operator?: boolean;
  json?: boolean;
}

/** Registers `keys create|list|revoke|rotate` on the program. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('manage API keys in a keys file (create, list, revoke, rotate)');
  registerCreate(keys);
  registerList(keys);
  registerRevoke(keys);
  registerRotate(keys);
}

/** `keys create`: prints the new key once and stores only its hash. */
function registerCreate(keys: Command): void {
  keys
    .command('create')
    .description('create a key; prints it once and stores only its hash')
    .option('--keys-file <file>', 'keys file (env MCP_KEYS_FILE); created with mode 0600 if missing')
    .requiredOption('--name <name>', 'label for the key (who or what uses it)')
    .option('--expires <when>', 'expiry: a duration (90d, 12h, 2w) or a date (2027-01-01)')
    .option('--tools <list>', 'comma-separated tools this key may list and call (default: all)')
    .option('--rate-limit <n>', 'requests per rate window for this key, on top of the per-IP limit')
    .option('--allow-ip <cidr>', 'source address/CIDR this key may be used from (repeatable)', collect)
    .option('--operator', 'grant the operator role: /api/status, /metrics, the console, the status resource and server_status (default: not an operator)')
    .option('--json', 'print the key and its record as JSON')
    .action(
      guarded((options: CreateOptions) => {
        const path = keysFileOf(options);
        if (options.name.trim() === '' || options.name.length > 200) throw new UsageError('--name must be 1-200 characters');
        const created = createKeyRecord({
          name: options.name,
          expiresAt: parseExpiryOption(options.expires),
          tools: parseTools(options.tools),
          rateLimit: parseRateLimit(options.rateLimit),
          allowIps: parseIps(options.allowIp),
          operator: options.operator === true,
        });
        updateKeysFile(path, (file) => {
          file.keys.push(created.record);
        });
        if (options.json === true) {
          process.stdout.write(`${JSON.stringify({ key: created.key, ...created.record })}\n`);
          return;
        }
        process.stdout.write(`${created.key}\n`);
        process.stderr.write(`created ${created.record.id} (${created.record.name}); the key above is shown once and stored only as a hash\n`);
      }),
    );
}

/** `keys list`: the records and their status, never the keys themselves. */
function registerList(keys: Command): void {
  keys
    .command('list')
    .description('list keys (never the keys themselves)')
    .option('--keys-file <file>', 'keys file (env MCP_KEYS_FILE)')
    .option('--json', 'print the records as JSON')
    .action(
      guarded((options: { keysFile?: string; json?: boolean }) => {
        const file = readKeysFile(keysFileOf(options));
        const now = Date.now();
        if (options.json === true) {
          process.stdout.write(`${JSON.stringify(file.keys.map((record) => ({ ...record, status: keyStatus(record, now) })), null, 2)}\n`);
          return;
        }
        process.stdout.write(table(file.keys.map((record) => row(record, now))));
      }),
    );
}

/** `keys revoke`: marks a key disabled and revoked. */
function registerRevoke(keys: Command): void {
  keys
    .command('revoke')
    .description('revoke a key; a running server refuses it from the next reload (within a second)')
    .argument('<id>', 'key id (from keys list)')
    .option('--keys-file <file>', 'keys file (env MCP_KEYS_FILE)')
    .action(
      guarded((id: string, options: { keysFile?: string }) => {
        const path = keysFileOf(options);
        updateKeysFile(path, (file) => {
          const record = file.keys.find((candidate) => candidate.id === id);
          if (record === undefined) throw new NotFoundError(`no key with id ${id}`);
          record.disabled = true;
          record.revoked = new Date().toISOString();
        });
        process.stdout.write(`revoked ${id}\n`);
      }),
    );
}

/** `keys rotate`: a new key with the old one's grants; the old one works until the overlap ends. */
function registerRotate(keys: Command): void {
  keys
    .command('rotate')
    .description('replace a key: prints the new key once; the old one keeps working until the overlap ends')
    .argument('<id>', 'key id to rotate')
    .option('--keys-file <file>', 'keys file (env MCP_KEYS_FILE)')
    .option('--overlap <duration>', 'how long the old key keeps working (e.g. 24h, 30m, 0s)', '24h')
    .option('--expires <when>', 'expiry of the new key (default: the old key\u2019s lifetime)')
    .option('--json', 'print the new key and its record as JSON')
    .action(
      guarded((id: string, options: { keysFile?: string; overlap: string; expires?: string; json?: boolean }) => {
        const path = keysFileOf(options);
        const overlap = parseDuration(options.overlap);
        if (overlap === undefined) throw new UsageError('--overlap expects a duration such as 24h, 30m or 0s');
        const explicitExpiry = parseExpiryOption(options.expires);
        const now = Date.now();
        const created = updateKeysFile(path, (file) => {
          const old = file.keys.find((candidate) => candidate.id === id);
          if (old === undefined) throw new NotFoundError(`no key with id ${id}`);
          if (keyStatus(old, now) !== 'active') throw new UsageError(`key ${id} is ${keyStatus(old, now)}; only active keys can be rotated`);
          const lifetime = old.expires === undefined || old.expires === null ? undefined : Date.parse(old.expires) - Date.parse(old.created);
          const fresh = createKeyRecord({
            name: old.name,
            expiresAt: explicitExpiry ?? (lifetime === undefined ? undefined : now + lifetime),
            tools: old.tools ?? undefined,
            rateLimit: old.rateLimit ?? undefined,
            allowIps: old.allowIps ?? undefined,
            operator: old.operator === true,
            rotatedFrom: old.id,
            now,
          });
          const overlapEnd = now + overlap;
          if (old.expires === undefined || old.expires === null || Date.parse(old.expires) > overlapEnd) old.expires = new Date(overlapEnd).toISOString();
          file.keys.push(fresh.record);
          return fresh;
        });
        if (options.json === true) {
          process.stdout.write(`${JSON.stringify({ key: created.key, ...created.record })}\n`);
          return;
        }
        process.stdout.write(`${created.key}\n`);
        process.stderr.write(`rotated ${id} → ${created.record.id}; the old key works until ${new Date(now + overlap).toISOString()}\n`);
      }),
    );
}
