/**
 * The published package as a newcomer gets it: `npm pack` from a tree with no `dist/` (a clean
 * clone), installed into an empty prefix from the registry, then the installed `mcp-warden` is
 * run (`--version`) and started (key through the environment, loopback, port 0) and `/health`
 * answers. Also: every engine range declared in the lockfile holds on this Node (no EBADENGINE).
 */

import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
const NPM_TIMEOUT = 100_000;

/** `npm …` to completion, bounded in time; throws with npm's output when it fails. */
function npm(args: string[], cwd: string): { stdout: string; stderr: string } {
  const result = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--no-update-notifier'], { cwd, encoding: 'utf8', timeout: NPM_TIMEOUT });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${String(result.status ?? result.signal)}): ${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr };
}

describe('the packed package', () => {
  let work: string;
  let tarball: string;
  let packedFiles: string[];
  let installLog: string;
  let bin: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'warden-pack-'));
    // A clean clone: the sources and the build config, no dist/. node_modules is linked (for tsc).
    const clone = join(work, 'clone');
    for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'LICENSE', 'README.md', 'src', 'public']) {
      cpSync(join(ROOT, entry), join(clone, entry), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', work], clone).stdout) as [{ filename: string; files: { path: string }[] }];
    tarball = join(work, packed[0].filename);
    packedFiles = packed[0].files.map((file) => file.path);

    const prefix = join(work, 'prefix');
    installLog = npm(['install', '--prefix', prefix, '--omit=dev', tarball], work).stderr;
    bin = join(prefix, 'node_modules', '.bin', 'mcp-warden');
  }, 2 * NPM_TIMEOUT + 20_000);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('ships the built CLI and library, the console assets and the LICENSE, and not the sources', () => {
    expect(packedFiles).toEqual(expect.arrayContaining(['dist/cli/main.js', 'dist/index.js', 'dist/index.d.ts', 'public/console.js', 'LICENSE', 'README.md', 'package.json']));
    expect(packedFiles.filter((file) => file.startsWith('src/') || file.startsWith('test/'))).toEqual([]);
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} mcp-warden contributors\n/);
  });

  it('installs on this Node with no engine warning', () => {
    expect(existsSync(bin)).toBe(true);
    expect(installLog).not.toMatch(/EBADENGINE/);
  });

  it('runs: --version prints the package version', () => {
    const result = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 15_000 });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it('starts with a key from the environment, answers /health and refuses /mcp without the key', async () => {
    const child = spawn(bin, ['--port', '0', '--host', '127.0.0.1'], { env: { PATH: process.env['PATH'] ?? '', MCP_API_KEYS: 'packed-test-key-0123456789abcdef' } });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let stdout = '';
        let stderr = '';
        const timer = setTimeout(() => reject(new Error(`did not start: ${stderr}`)), 15_000);
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const match = /"msg":"mcp-warden listening"/.test(stdout) ? /"url":"(http:\/\/[^"]+)"/.exec(stdout) : null;
          if (match?.[1] === undefined) return;
          clearTimeout(timer);
          resolve(match[1]);
        });
        child.on('error', reject);
        child.on('exit', (code) => reject(new Error(`exited with ${String(code)}: ${stderr}`)));
      });
      const health = await fetch(new URL('/health', url));
      expect(health.status).toBe(200);
      const refused = await fetch(new URL('/mcp', url), { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
      expect(refused.status).toBe(401);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    }
  });
});

describe('declared engines', () => {
  it('every package in the lockfile that declares engines.node accepts this Node', () => {
    const semver = createRequire(import.meta.url)('semver') as { satisfies(version: string, range: string): boolean };
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } | string[] }> };
    const refused = Object.entries(lock.packages)
      .flatMap(([path, entry]) => {
        const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        return range === undefined || semver.satisfies(process.version, range) ? [] : [`${path || 'mcp-warden'} requires node ${range}`];
      });
    expect(refused).toEqual([]);
  });

});
