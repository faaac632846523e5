/**
 * `mcp-warden deploy` as a command: option validation (exit 2, every problem listed, no
 * stack), refusing to overwrite without --force (exit 1, nothing written), --platform
 * filtering, and registration on a commander program.
 */

import { existsSync, mkdirSync, readFileSync, readlinkSync, lstatSync, symlinkSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { registerDeploy } from '../../src/cli/deploy.js';
import { deploy, readTree, removeTempRoots, tempRoot } from './helpers.js';

afterAll(removeTempRoots);

const COMMON = ['.env.template', 'SECURITY_CHECKLIST.md', 'mcp-warden.config.json'];

describe('option validation', () => {
  it.each([
    [{ platform: 'aws' }, '--platform: unknown platform "aws"'],
    [{ platform: ' , ' }, '--platform: expected all or one of'],
    [{ replicas: '0' }, '--replicas: expected a positive integer'],
    [{ replicas: '-2' }, '--replicas: expected a positive integer'],
    [{ replicas: '2.5' }, '--replicas: expected a positive integer'],
    [{ replicas: 'three' }, '--replicas: expected a positive integer'],
    [{ replicas: '1001' }, '--replicas: expected a positive integer from 1 to 1000'],
    [{ domain: 'https://mcp.example.com' }, '--domain: expected a host name'],
    [{ domain: 'mcp.example.com:8443' }, '--domain: expected a host name'],
    [{ domain: 'localhost' }, '--domain: expected a host name'],
    [{ out: 'deploy dir' }, "--out: use only letters, digits"],
    [{ image: 'mcp warden' }, '--image: expected an image reference'],
  ])('%j exits 2 with a clear message and writes nothing', async (options, message) => {
    const run = await deploy(options);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('mcp-warden deploy: invalid options');
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).toBe('');
    expect(existsSync(join(run.root, 'deploy'))).toBe(false);
  });

  it('lists every problem at once', async () => {
    const run = await deploy({ platform: 'nomad', replicas: '0', domain: 'not a host' });
    expect(run.code).toBe(2);
    for (const option of ['--platform', '--replicas', '--domain']) expect(run.stderr).toContain(option);
  });

  it('accepts a comma-separated platform list, any case, and a domain in capitals', async () => {
    const run = await deploy({ platform: 'Heroku, cloud-run', domain: 'MCP.Example.COM' });
    expect(run.code).toBe(0);
    const config = JSON.parse(readFileSync(join(run.root, 'deploy/mcp-warden.config.json'), 'utf8')) as { allowedHosts: string[] };
    expect(config.allowedHosts).toEqual(['mcp.example.com']);
    expect(readTree(join(run.root, 'deploy')).has('cloud-run/service.yaml')).toBe(true);
  });
});

describe('--platform', () => {
  it.each([
    ['heroku', ['heroku/Procfile', 'heroku/app.json']],
    ['railway', ['railway/railway.json', 'railway/render.yaml', 'railway/start.sh']],
    ['docker', ['.dockerignore', 'Dockerfile']],
    // Platforms that run the image get the Dockerfile too.
    ['kubernetes', ['.dockerignore', 'Dockerfile', 'kubernetes/mcp-warden.yaml', 'kubernetes/secret.template.yaml']],
    ['cloud-run', ['.dockerignore', 'Dockerfile', 'cloud-run/service.yaml']],
  ])('%s writes the common files and its own only', async (platform, own) => {
    const run = await deploy({ platform });
    expect(run.code).toBe(0);
    expect([...readTree(join(run.root, 'deploy')).keys()].sort()).toEqual([...COMMON, ...own].sort());
  });

  it('limits the checklist and the next steps to the chosen platforms', async () => {
    const run = await deploy({ platform: 'heroku' });
    const checklist = readFileSync(join(run.root, 'deploy/SECURITY_CHECKLIST.md'), 'utf8');
    expect(checklist).toContain('  - [x] Heroku:');
    for (const other of ['Kubernetes:', 'Cloud Run:', 'Docker:', 'Railway / Render:']) expect(checklist).not.toContain(`] ${other}`);
    // No image, so no container items.
    expect(checklist).not.toContain('Container runs unprivileged');
    expect(run.stdout).toContain('  Heroku:');
    expect(run.stdout).not.toContain('kubectl');
  });
});

describe('existing files', () => {
  it('without --force: exits 1, names the existing files and writes nothing at all', async () => {
    const root = tempRoot();
    expect((await deploy({}, root)).code).toBe(0);
    const dockerfile = join(root, 'deploy/Dockerfile');
    const procfile = join(root, 'deploy/heroku/Procfile');
    writeFileSync(dockerfile, 'FROM scratch\n');
    unlinkSync(procfile);

    const again = await deploy({}, root);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('--force');
    expect(again.stderr).toContain('  deploy/Dockerfile\n');
    expect(again.stderr).not.toContain('deploy/heroku/Procfile');
    expect(again.stdout).toBe('');
    expect(readFileSync(dockerfile, 'utf8')).toBe('FROM scratch\n');
    // All or nothing: the missing file is not written either.
    expect(existsSync(procfile)).toBe(false);
  });

  it('with --force: overwrites them', async () => {
    const root = tempRoot();
    await deploy({}, root);
    const dockerfile = join(root, 'deploy/Dockerfile');
    writeFileSync(dockerfile, 'FROM scratch\n');
    const forced = await deploy({ force: true, replicas: '2' }, root);
    expect(forced.code).toBe(0);
    expect(readFileSync(dockerfile, 'utf8')).toContain('AS runtime');
    expect(readFileSync(join(root, 'deploy/kubernetes/mcp-warden.yaml'), 'utf8')).toContain('replicas: 2');
  });

  it('with --force: replaces a symlink at a target path instead of writing through it', async () => {
    const root = tempRoot();
    const victim = join(root, 'victim.txt');
    writeFileSync(victim, 'keep me\n');
    mkdirSync(join(root, 'deploy'));
    symlinkSync(victim, join(root, 'deploy/.env.template'));
    expect((await deploy({}, root)).code).toBe(1);
    expect(readlinkSync(join(root, 'deploy/.env.template'))).toBe(victim);

    expect((await deploy({ force: true }, root)).code).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('keep me\n');
    expect(lstatSync(join(root, 'deploy/.env.template')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(root, 'deploy/.env.template'), 'utf8')).toContain('MCP_API_KEYS=');
  });

  it('a directory where a file should go is an error even with --force', async () => {
    const root = tempRoot();
    mkdirSync(join(root, 'deploy/Dockerfile'), { recursive: true });
    const run = await deploy({ force: true }, root);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('deploy/Dockerfile is a directory');
    expect(existsSync(join(root, 'deploy/mcp-warden.config.json'))).toBe(false);
  });

  it('--out . writes into the current directory with paths from there', async () => {
    const run = await deploy({ out: '.', platform: 'heroku,docker' });
    expect(run.code).toBe(0);
    const files = readTree(run.root);
    expect(files.get('heroku/Procfile')).toContain('--config mcp-warden.config.json');
    expect(files.get('Dockerfile')).toContain('COPY mcp-warden.config.json /app/mcp-warden.config.json');
    expect(files.get('Dockerfile')).toContain('# Generated by mcp-warden deploy. Regenerate with: mcp-warden deploy --out . --platform docker,heroku --force');
  });

  it('--out names a nested directory used by every path', async () => {
    const run = await deploy({ out: 'ops/warden', platform: 'railway,docker' });
    expect(run.code).toBe(0);
    const files = readTree(join(run.root, 'ops/warden'));
    expect(files.get('railway/start.sh')).toContain('cd "$(dirname "$0")/../../.."');
    expect(files.get('railway/start.sh')).toContain('--config ops/warden/mcp-warden.config.json');
    expect(files.get('Dockerfile')).toContain('COPY ops/warden/mcp-warden.config.json');
    expect(run.stdout).toContain('wrote 8 files to ops/warden/');
  });
});

describe('the summary', () => {
  it('lists the files written and the next steps, starting with a key from keygen', async () => {
    const run = await deploy({ platform: 'kubernetes' });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('mcp-warden deploy: wrote 7 files to deploy/');
    expect(run.stdout).toContain('  deploy/kubernetes/mcp-warden.yaml\n');
    expect(run.stdout).toMatch(/Security checklist: \d+ of \d+ items done; read deploy\/SECURITY_CHECKLIST\.md/);
    expect(run.stdout).toContain('mcp-warden keygen | kubectl create secret generic mcp-warden-api-keys --from-file=MCP_API_KEYS=/dev/stdin');
    expect(run.stdout).toContain('kubectl apply -f deploy/kubernetes/mcp-warden.yaml');
  });
});

describe('registerDeploy on a commander program', () => {
  function program(): Command {
    const root = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    registerDeploy(root);
    return root;
  }

  let cwd: string | undefined;
  afterEach(() => {
    if (cwd !== undefined) process.chdir(cwd);
    cwd = undefined;
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  function captureOutput(): { stdout: () => string; stderr: () => string } {
    let stdout = '';
    let stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    return { stdout: () => stdout, stderr: () => stderr };
  }

  it('parses the flags, writes into the current directory and leaves exit code 0', async () => {
    const root = tempRoot();
    cwd = process.cwd();
    process.chdir(root);
    const output = captureOutput();
    await program().parseAsync(['deploy', '--out', 'out', '--platform', 'kubernetes', '--domain', 'mcp.example.com', '--replicas', '2', '--image', 'registry.example.com/mcp-warden:1.2.3'], { from: 'user' });
    expect(process.exitCode).toBe(0);
    expect(output.stdout()).toContain('wrote 7 files to out/');
    const manifest = readFileSync(join(root, 'out/kubernetes/mcp-warden.yaml'), 'utf8');
    expect(manifest).toContain('image: registry.example.com/mcp-warden:1.2.3');
    expect(manifest).toContain('replicas: 2');
    expect(manifest).toContain('host: mcp.example.com');
  });

  it('sets exit code 2 for invalid options and 1 when files exist', async () => {
    const root = tempRoot();
    cwd = process.cwd();
    process.chdir(root);
    const output = captureOutput();
    await program().parseAsync(['deploy', '--replicas', 'many'], { from: 'user' });
    expect(process.exitCode).toBe(2);
    expect(output.stderr()).toContain('--replicas: expected a positive integer');

    await program().parseAsync(['deploy', '--platform', 'docker'], { from: 'user' });
    expect(process.exitCode).toBe(0);
    await program().parseAsync(['deploy', '--platform', 'docker'], { from: 'user' });
    expect(process.exitCode).toBe(1);
    await program().parseAsync(['deploy', '--platform', 'docker', '--force'], { from: 'user' });
    expect(process.exitCode).toBe(0);
  });

  it('rejects unknown flags through commander (the CLI maps that to exit 2)', async () => {
    await expect(program().parseAsync(['deploy', '--replica', '3'], { from: 'user' })).rejects.toBeInstanceOf(CommanderError);
  });
});
