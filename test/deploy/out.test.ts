/**
 * `deploy --out`: any directory the operator names is accepted and the generated files are the
 * same wherever they are written (no absolute or `../` path baked in); a symlinked directory on
 * the way (named in --out, or a generated subdirectory) or a symlink at a target file is never
 * written through without --force; the summary names the real directory.
 */

import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deploy, readTree, removeTempRoots, tempRoot } from './helpers.js';

afterAll(removeTempRoots);

/** What `deploy` writes by default (./deploy) in a fresh directory. */
async function reference(options: { platform?: string } = {}): Promise<Map<string, string>> {
  const run = await deploy(options);
  expect(run.code).toBe(0);
  return readTree(join(run.root, 'deploy'));
}

describe('--out anywhere', () => {
  it('a relative path outside the current directory is written, with the same files as ./deploy', async () => {
    const root = tempRoot();
    const repo = join(root, 'repo');
    mkdirSync(repo);
    const run = await deploy({ out: '../out-q7z' }, repo);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const written = readTree(join(root, 'out-q7z'));
    expect(written).toEqual(await reference());
    expect(run.stdout).toContain(`wrote ${written.size} files to ${realpathSync(join(root, 'out-q7z'))}/`);
    expect(run.stdout).toContain('copy them to deploy/ in the repository');
    for (const content of written.values()) expect(content).not.toContain('out-q7z');
  });

  it('an absolute path (with a space in it) is written, with the same files as ./deploy', async () => {
    const target = join(tempRoot(), 'ops out', 'warden');
    const run = await deploy({ out: target, platform: 'docker,heroku,railway' });
    expect(run.code).toBe(0);
    const written = readTree(target);
    expect(written).toEqual(await reference({ platform: 'docker,heroku,railway' }));
    for (const content of written.values()) expect(content).not.toContain('ops out');
  });

  it('inside the current directory the path is still used by every file (unchanged)', async () => {
    const run = await deploy({ out: 'ops/warden', platform: 'heroku' });
    expect(run.code).toBe(0);
    expect(readFileSync(join(run.root, 'ops/warden/heroku/Procfile'), 'utf8')).toContain('--config ops/warden/mcp-warden.config.json');
  });
});

describe('symlinks on the way', () => {
  it('an --out directory that is a symlink is refused without --force (nothing written), and written through with it', async () => {
    const root = tempRoot();
    const away = tempRoot();
    symlinkSync(away, join(root, 'deploy'));
    const refused = await deploy({}, root);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `mcp-warden deploy: nothing was written because these directories on the way are symlinks (use --force to write through them):\n  ${join(root, 'deploy')} -> ${realpathSync(away)}\n`,
    );
    expect(refused.stdout).toBe('');
    expect(readTree(away).size).toBe(0);

    const forced = await deploy({ force: true }, root);
    expect(forced.code).toBe(0);
    expect(existsSync(join(away, 'Dockerfile'))).toBe(true);
  });

  it('a symlinked component of --out (ops -> elsewhere) is refused without --force', async () => {
    const root = tempRoot();
    const away = tempRoot();
    symlinkSync(away, join(root, 'ops'));
    const refused = await deploy({ out: 'ops/warden' }, root);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`  ${join(root, 'ops')} -> ${realpathSync(away)}\n`);
    expect(existsSync(join(away, 'warden'))).toBe(false);
  });

  it('a symlinked component of an absolute --out is refused without --force', async () => {
    const root = tempRoot();
    const away = tempRoot();
    symlinkSync(away, join(root, 'link'));
    const refused = await deploy({ out: join(root, 'link', 'sub') });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`  ${join(root, 'link')} -> ${realpathSync(away)}\n`);
    expect(existsSync(join(away, 'sub'))).toBe(false);
  });

  it('a generated subdirectory that is a symlink (deploy/kubernetes -> elsewhere) is refused, and no file is written at all', async () => {
    const root = tempRoot();
    const away = tempRoot();
    mkdirSync(join(root, 'deploy'));
    symlinkSync(away, join(root, 'deploy/kubernetes'));
    const refused = await deploy({}, root);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`  ${join(root, 'deploy/kubernetes')} -> ${realpathSync(away)}\n`);
    expect(readTree(away).size).toBe(0);
    expect(existsSync(join(root, 'deploy/Dockerfile'))).toBe(false);
  });

  it('a symlink at a target file outside the current directory is not replaced without --force, and never followed', async () => {
    const root = tempRoot();
    const out = join(root, 'out');
    mkdirSync(out);
    const victim = join(root, 'victim.txt');
    writeFileSync(victim, 'keep me\n');
    symlinkSync(victim, join(out, 'Dockerfile'));
    const refused = await deploy({ out, platform: 'docker' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${out}/Dockerfile\n`);
    expect(lstatSync(join(out, 'Dockerfile')).isSymbolicLink()).toBe(true);
    const forced = await deploy({ out, platform: 'docker', force: true });
    expect(forced.code).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('keep me\n');
    expect(lstatSync(join(out, 'Dockerfile')).isSymbolicLink()).toBe(false);
  });
});
