/**
 * `registerCheck` through commander, as `mcp-warden check ...` parses it: repeated and
 * space-separated `--test` names, `--json`, exit codes handed to `exit`, and commander's own
 * usage errors (missing `--url`) surfacing as CommanderError (main.ts maps those to exit 2).
 */

import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerCheck } from '../../src/cli/check.js';
import { useSharedWarden } from '../helpers/warden.js';
import { captureIo } from './helpers.js';

function program(): { command: Command; exits: number[]; out: ReturnType<typeof captureIo> } {
  const out = captureIo();
  const exits: number[] = [];
  const command = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerCheck(command, { ...out.io, exit: (code) => exits.push(code) });
  return { command, exits, out };
}

describe('mcp-warden check on the command line', () => {
  const warden = useSharedWarden();

  it('parses --test lists (space- and comma-separated, repeated) and --json, and exits 0', async () => {
    const { command, exits, out } = program();
    await command.parseAsync(['check', '--url', warden.mcpUrl, '--api-key', warden.key, '--test', 'health', 'origin', '--test', 'cors,health', '--json'], { from: 'user' });
    expect(exits).toEqual([0]);
    const report = JSON.parse(out.stdout()) as { results: Array<{ test: string; status: string }> };
    expect(report.results.map((result) => [result.test, result.status])).toEqual([
      ['health', 'PASS'],
      ['origin', 'PASS'],
      ['cors', 'PASS'],
    ]);
  });

  it('exits 2 for an unknown --test name and 1 when a check fails', async () => {
    const unknown = program();
    await unknown.command.parseAsync(['check', '--url', warden.mcpUrl, '--test', 'nope'], { from: 'user' });
    expect(unknown.exits).toEqual([2]);
    expect(unknown.out.stderr()).toContain('unknown test "nope"');

    const failing = program();
    await failing.command.parseAsync(['check', '--url', warden.mcpUrl, '--test', 'rate', '--max-requests', '3', '--api-key', warden.key], { from: 'user' });
    expect(failing.exits).toEqual([1]);
    expect(failing.out.stdout()).toMatch(/^FAIL {2}rate {6}no 429 after 3 requests/m);
  });

  it('a missing --url is a commander usage error', async () => {
    const { command, exits } = program();
    const error = await command.parseAsync(['check', '--json'], { from: 'user' }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(CommanderError);
    expect((error as CommanderError).code).toBe('commander.missingMandatoryOptionValue');
    expect(exits).toEqual([]);
  });
});
