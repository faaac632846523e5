/**
 * @module cli/audit
 * `mcp-warden audit verify FILE...`: recomputes the audit trail's hash chain and reports OK or
 * the first record where it breaks. Exit 0 when intact, 1 when broken, 2 for usage errors.
 * When rotation pruned older records it says how many, which seq and time range, and how many
 * files (from the `audit_pruned` records), so "OK" never hides a trail that lost its start.
 * Uses MCP_AUDIT_KEY when the trail was written with an HMAC key.
 */

import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { auditFiles, describePruned, explainBreak, verifyAudit } from '../observability/audit-verify.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './exit-codes.js';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('work with the tamper-evident audit trail');
  audit
    .command('verify')
    .description('check the hash chain of audit files (oldest first); reports the first broken record')
    .argument('<files...>', 'audit files, oldest first (with --all: the current file)')
    .option('--all', 'also check the rotated files FILE.N … FILE.1 before FILE')
    .option('--json', 'print the result as JSON')
    .action(async (files: string[], options: { all?: boolean; json?: boolean }) => {
      const missing = files.filter((file) => !existsSync(file));
      if (missing.length > 0) {
        process.stderr.write(`mcp-warden audit: no such file: ${missing.join(', ')}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      const found = files.map((file) => auditFiles(file));
      const gaps = found.flatMap((entry) => entry.missing);
      if (options.all === true && gaps.length > 0) {
        process.stdout.write(`BROKEN: ${explainBreak('missing_file')}: ${gaps.join(', ')}\n`);
        process.exitCode = EXIT_FAILED;
        return;
      }
      const list = options.all === true ? found.flatMap((entry) => entry.files) : files;
      // The whole trail is checked (it must start at seq 1 or where rotation pruned it) with
      // --all, or when the single file given has no rotated files beside it.
      const complete = options.all === true || (files.length === 1 && (found[0]?.files.length ?? 0) === 1);
      const key = process.env['MCP_AUDIT_KEY'];
      const result = await verifyAudit(list, key === undefined || key === '' ? undefined : key, { complete });
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify({ files: list, ...result })}\n`);
      } else if (result.ok) {
        const range = result.records === 0 ? 'no records' : `${result.records} records, seq ${result.firstSeq}..${result.head?.seq}, head ${result.head?.hash}`;
        process.stdout.write(`OK: ${range}${result.note === undefined ? '' : ` (${result.note})`}\n`);
        if (result.pruned !== undefined) process.stdout.write(`PRUNED: ${describePruned(result.pruned)}\n`);
      } else if (result.break !== undefined) {
        const where = `${result.break.file} line ${result.break.line}${result.break.seq === undefined ? '' : ` (seq ${result.break.seq})`}`;
        process.stdout.write(`BROKEN at ${where}: ${explainBreak(result.break.reason)}\n`);
      }
      process.exitCode = result.ok ? EXIT_OK : EXIT_FAILED;
    });
}
