/**
 * @module operator/deploy/writer
 * Writes generated files under the output directory, all or nothing with respect to existing
 * files: without `force`, if any target exists nothing is written and the existing paths are
 * returned. With `force`, an existing file (or symlink) is removed before the new one is
 * created, so a symlink planted at a target path is never followed.
 *
 * Directories are checked too: without `force`, nothing is written when a directory on the way
 * (from `base` down to each file: the components the operator named in `--out` and the generated
 * subdirectories) is a symlink, since the files would land wherever it points; with `force` the
 * operator has chosen to write through it.
 */

import { chmod, lstat, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { GeneratedFile } from './model.js';

export type WriteOutcome =
  | { readonly kind: 'written'; readonly paths: readonly string[] }
  | { readonly kind: 'exists'; readonly paths: readonly string[] }
  /** Directories on the way are symlinks (absolute paths); nothing was written. */
  | { readonly kind: 'symlinked'; readonly paths: readonly string[] };

/** Thrown when a target path is a directory, which even `--force` does not replace. */
export class TargetIsDirectoryError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`${path} is a directory`);
    this.name = 'TargetIsDirectoryError';
    this.path = path;
  }
}

async function existing(path: string): Promise<'none' | 'file' | 'directory' | 'symlink'> {
  try {
    const stats = await lstat(path);
    return stats.isDirectory() ? 'directory' : stats.isSymbolicLink() ? 'symlink' : 'file';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw error;
  }
}

/** The directories from below `base` down to `dir` (`base` itself excluded), outermost first. */
function directoriesBetween(base: string, dir: string): string[] {
  const steps = relative(base, dir).split(sep).filter((step) => step !== '' && step !== '.');
  return steps.map((_, index) => join(base, ...steps.slice(0, index + 1)));
}

/** The existing directories on the way to the targets that are symlinks. */
async function symlinkedDirectories(base: string, outDir: string, files: readonly GeneratedFile[]): Promise<string[]> {
  const directories = new Set(directoriesBetween(base, outDir));
  for (const file of files) for (const directory of directoriesBetween(outDir, dirname(join(outDir, file.path)))) directories.add(directory);
  const linked: string[] = [];
  for (const directory of directories) if ((await existing(directory)) === 'symlink') linked.push(directory);
  return linked;
}

/**
 * Writes `files` under `outDir`. `base` is where the operator's path starts (the current
 * directory for a relative `--out` inside it, the filesystem root otherwise): every existing
 * directory below it on the way to a file must be a real directory unless `force`.
 *
 * @example
 * const outcome = await writeGeneratedFiles('/repo/deploy', files, { force: false, base: '/repo' });
 * if (outcome.kind === 'exists') console.error(outcome.paths);
 */
export async function writeGeneratedFiles(
  outDir: string,
  files: readonly GeneratedFile[],
  options: { readonly force: boolean; readonly base?: string },
): Promise<WriteOutcome> {
  if (!options.force) {
    const linked = await symlinkedDirectories(options.base ?? outDir, outDir, files);
    if (linked.length > 0) return { kind: 'symlinked', paths: linked };
  }
  const present: string[] = [];
  for (const file of files) {
    const state = await existing(join(outDir, file.path));
    if (state === 'directory') throw new TargetIsDirectoryError(file.path);
    if (state !== 'none') present.push(file.path);
  }
  if (present.length > 0 && !options.force) return { kind: 'exists', paths: present };

  for (const file of files) {
    const target = join(outDir, file.path);
    const mode = file.mode ?? 0o644;
    await mkdir(dirname(target), { recursive: true });
    if (present.includes(file.path)) await rm(target, { force: true });
    // 'wx' fails rather than follow anything created at the path in the meantime.
    await writeFile(target, file.content, { encoding: 'utf8', mode, flag: 'wx' });
    await chmod(target, mode);
  }
  return { kind: 'written', paths: files.map((file) => file.path) };
}
