#!/usr/bin/env node
/**
 * @module cli/main
 * The `mcp-warden` command. `serve` is the default, so seed-style invocations work:
 * `mcp-warden --env-keys`, `mcp-warden --keys-file F`, `mcp-warden --generate-key`; the
 * top-level `--help` lists the server options too.
 * Usage and configuration errors exit with code 2.
 */

import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { registerAudit } from './audit.js';
import { registerCheck } from './check.js';
import { registerDeploy } from './deploy.js';
import { registerGateway } from './gateway.js';
import { registerKeygen } from './keygen.js';
import { registerKeys } from './keys.js';
import { registerOAuth } from './oauth.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { registerServe, serveOptionsHelp } from './serve.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('mcp-warden')
    .description('A fast, secure Model Context Protocol server')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run mcp-warden --help for usage)');
  const serve = registerServe(program);
  // `serve` is the default command: its options belong on the first help a newcomer sees.
  program.addHelpText('after', () => serveOptionsHelp(serve));
  registerKeygen(program);
  registerKeys(program);
  registerAudit(program);
  registerDeploy(program);
  registerCheck(program);
  registerGateway(program);
  registerOAuth(program);
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exit(error.exitCode === 0 ? EXIT_OK : EXIT_USAGE);
    }
    process.stderr.write(`mcp-warden: unexpected error: ${(error as Error).message}\n`);
    process.exit(EXIT_FAILED);
  }
}

void main();
