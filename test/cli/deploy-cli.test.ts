/**
 * `mcp-warden deploy` through the built command: writes the files, refuses to overwrite
 * without --force, and rejects bad options with exit 2.
 */

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CommandResult } from '../helpers/cli.js';

function run(cwd: string, args: string[]): CommandResult {
  return runCli(['deploy', ...args], { cwd, env: { MCP_API_KEYS: 'deploy-secret-key-0123456789abcdef' } });
}

describe('mcp-warden deploy (built command)', () => {
  it('writes the files, refuses to overwrite without --force, and validates its options', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'warden-deploy-'));
    const first = run(cwd, ['--domain', 'mcp.example.com', '--replicas', '2']);
    expect(first.status).toBe(0);
    for (const file of ['mcp-warden.config.json', 'SECURITY_CHECKLIST.md', 'Dockerfile', 'kubernetes/mcp-warden.yaml', 'cloud-run/service.yaml', 'heroku/Procfile', '.env.template']) {
      expect(existsSync(join(cwd, 'deploy', file)), file).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(cwd, 'deploy', 'mcp-warden.config.json'), 'utf8'))).toMatchObject({ allowedHosts: ['mcp.example.com'], publicUrl: 'https://mcp.example.com' });
    expect(readFileSync(join(cwd, 'deploy', 'kubernetes', 'mcp-warden.yaml'), 'utf8')).not.toContain('deploy-secret-key');

    const again = run(cwd, []);
    expect(again.status).toBe(1);
    expect(run(cwd, ['--force']).status).toBe(0);
    expect(run(cwd, ['--replicas', '0']).status).toBe(2);
    expect(run(cwd, ['--platform', 'mainframe']).status).toBe(2);
  });
});
