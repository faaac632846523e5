/**
 * `mcp-warden keys …` and `mcp-warden audit verify` as operators run them (built CLI in a
 * child process), and a running server refusing a revoked key without a restart.
 */

import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, serveCli, type CommandResult } from '../helpers/cli.js';
import { apiStatus, apiTools, send } from '../helpers/http.js';
import { sleep } from '../helpers/wait.js';

function run(args: string[], env: Record<string, string> = {}): CommandResult {
  return runCli(args, { env });
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'warden-cli-'));
}

describe('mcp-warden keys', () => {
  it('create prints the key once and stores only its hash in a 0600 file', () => {
    const file = join(tempDir(), 'keys.json');
    const created = run(['keys', 'create', '--keys-file', file, '--name', 'ci-bot', '--expires', '90d', '--tools', 'calculate,echo', '--rate-limit', '30', '--allow-ip', '10.0.0.0/8']);
    expect(created.status).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/created k_[0-9a-f]{10} \(ci-bot\)/);
    const stored = readFileSync(file, 'utf8');
    expect(stored).not.toContain(key);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const record = (JSON.parse(stored) as { keys: Array<Record<string, unknown>> }).keys[0];
    expect(record).toMatchObject({ name: 'ci-bot', tools: ['calculate', 'echo'], rateLimit: 30, allowIps: ['10.0.0.0/8'], disabled: false, prefix: key.slice(0, 6) });
    expect(String(record?.['hash'])).toMatch(/^sha256:/);
  });

  it('list shows a table without secrets; --json is machine-readable', () => {
    const file = join(tempDir(), 'keys.json');
    const key = run(['keys', 'create', '--keys-file', file, '--name', 'alpha']).stdout.trim();
    run(['keys', 'create', '--keys-file', file, '--name', 'beta']);
    const table = run(['keys', 'list', '--keys-file', file]);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+PREFIX\s+STATUS/);
    expect(table.stdout).toContain('alpha');
    expect(table.stdout).toContain('beta');
    expect(table.stdout).not.toContain(key);
    const json = JSON.parse(run(['keys', 'list', '--keys-file', file, '--json'], {}).stdout) as Array<{ name: string; status: string }>;
    expect(json.map((entry) => [entry.name, entry.status])).toEqual([
      ['alpha', 'active'],
      ['beta', 'active'],
    ]);
  });

  it('revoke and rotate change the records; bad input exits 2, an unknown id exits 1', () => {
    const file = join(tempDir(), 'keys.json');
    run(['keys', 'create', '--keys-file', file, '--name', 'svc', '--expires', '30d']);
    const [record] = JSON.parse(run(['keys', 'list', '--keys-file', file, '--json']).stdout) as Array<{ id: string }>;
    const id = (record as { id: string }).id;
    const rotated = run(['keys', 'rotate', id, '--keys-file', file, '--overlap', '2h']);
    expect(rotated.status).toBe(0);
    expect(rotated.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const after = JSON.parse(run(['keys', 'list', '--keys-file', file, '--json']).stdout) as Array<{ id: string; expires: string; rotatedFrom?: string }>;
    expect(after).toHaveLength(2);
    const old = after.find((entry) => entry.id === id);
    expect(Date.parse(old?.expires ?? '') - Date.now()).toBeGreaterThan(1.9 * 3_600_000);
    expect(Date.parse(old?.expires ?? '') - Date.now()).toBeLessThan(2.1 * 3_600_000);
    expect(after.find((entry) => entry.id !== id)?.rotatedFrom).toBe(id);

    expect(run(['keys', 'revoke', id, '--keys-file', file]).status).toBe(0);
    expect((JSON.parse(run(['keys', 'list', '--keys-file', file, '--json']).stdout) as Array<{ id: string; status: string }>).find((entry) => entry.id === id)?.status).toBe('revoked');
    expect(run(['keys', 'revoke', 'k_nope', '--keys-file', file]).status).toBe(1);
    expect(run(['keys', 'create', '--keys-file', file, '--name', 'x', '--expires', 'soon']).status).toBe(2);
    expect(run(['keys', 'create', '--keys-file', file, '--name', 'x', '--allow-ip', 'nope']).status).toBe(2);
    expect(run(['keys', 'create', '--name', 'x']).status).toBe(2);
    expect(run(['keys', 'create', '--keys-file', file]).status).toBe(2);
  });

  it('a running server refuses a key revoked with the CLI within a second, without a restart', async () => {
    const file = join(tempDir(), 'keys.json');
    const key = run(['keys', 'create', '--keys-file', file, '--name', 'live']).stdout.trim();
    const [record] = JSON.parse(run(['keys', 'list', '--keys-file', file, '--json']).stdout) as Array<{ id: string }>;
    const served = await serveCli(['--keys-file', file]);
    const url = served.url;
    expect((await apiTools(url, key)).status).toBe(200);
    expect(run(['keys', 'revoke', (record as { id: string }).id, '--keys-file', file]).status).toBe(0);
    const started = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - started < 1500) {
      await sleep(50);
      status = (await apiTools(url, key)).status;
    }
    expect(status).toBe(401);
    expect(Date.now() - started).toBeLessThan(1000);
    await served.stop();
  });

  it('a malformed keys file at start exits 2 with a clear message', () => {
    const file = join(tempDir(), 'keys.json');
    writeFileSync(file, '{"version":1,"keys":[{"id":"x"}]}');
    const result = run(['--port', '0', '--keys-file', file]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('keys.json');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('mcp-warden audit verify', () => {
  it('reports OK for an intact trail and the first broken record otherwise', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.log');
    const served = await serveCli(['--audit-log', path, '--api-key', 'audit-test-key-0123456789abcdef']);
    const url = served.url;
    for (let index = 0; index < 3; index++) await apiStatus(url, `wrong-${index}-0123456789abcdef`);
    expect(await served.stop()).toBe(0);

    const ok = run(['audit', 'verify', path]);
    expect(ok.status).toBe(0);
    // server_start, the first auth_failure, one aggregate counting the other two, server_stop.
    expect(ok.stdout).toMatch(/^OK: 4 records, seq 1\.\.4, head [0-9a-f]{64}/);
    expect(readFileSync(path, 'utf8')).toContain('"event":"refusals_aggregated","kind":"auth_failure","reason":"unknown_key","ip":"127.0.0.1","count":2');

    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    lines[2] = (lines[2] as string).replace('unknown_key', 'no_problem!');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const broken = run(['audit', 'verify', path]);
    expect(broken.status).toBe(1);
    expect(broken.stdout).toMatch(/^BROKEN at .*audit\.log line 3 \(seq 3\): the record was modified/);
    expect(run(['audit', 'verify', join(dir, 'missing.log')]).status).toBe(2);
  });
});
