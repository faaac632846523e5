/**
 * @module cli/keygen
 * `mcp-warden keygen` (and `--generate-key`): prints a new API key on stdout and nothing else,
 * so it can be captured: `MCP_API_KEYS=$(mcp-warden keygen)`.
 */

import type { Command } from 'commander';
import { generateApiKey } from '../security/keygen.js';

export function printNewKey(): void {
  process.stdout.write(`${generateApiKey()}\n`);
}

export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description('print a new API key (32 random bytes, base64url) and exit')
    .action(() => printNewKey());
}
