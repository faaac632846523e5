/**
 * @module operator/deploy/writer
 * Writes generated files under the output directory, all or nothing with respect to existing
 * files: without `force`, if any target exists nothing is written and the existing paths are
 * returned. With `force`, an existing file (or symlink) is removed before the new one is
 * created, so a symlink planted at a target path is never followed.
 */

import { chmod, lstat, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { GeneratedFile } from './model.js';

export type WriteOutcome =
  | { readonly kind: 'written'; readonly paths: readonly string[] }
  | { readonly kind: 'exists'; readonly paths: readonly string[] };

/** Thrown when a target path is a directory, which even `--force` does not replace. */
export class TargetIsDirectoryError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`${path} is a directory`);
    this.name = 'TargetIsDirectoryError';
    this.path = path;
  }
}

async function existing(path: string): Promise<'none' | 'file' | 'directory'> {
  try {
    const stats = await lstat(path);
    return stats.isDirectory() ? 'directory' : 'file';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw error;
  }
}

/**
 * Writes `files` under `outDir`.
 *
 * @example
 * const outcome = await writeGeneratedFiles('/repo/deploy', files, { force: false });
 * if (outcome.kind === 'exists') console.error(outcome.paths);
 */
export async function writeGeneratedFiles(outDir: string, files: readonly GeneratedFile[], options: { readonly force: boolean }): Promise<WriteOutcome> {
  const present: string[] = [];
  for (const file of files) {
    const state = await existing(join(outDir, file.path));
    if (state === 'directory') throw new TargetIsDirectoryError(file.path);
    if (state === 'file') present.push(file.path);
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
