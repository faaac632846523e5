/**
 * @module cli/deploy
 * `mcp-warden deploy`: writes production deployment files (config, security checklist,
 * Dockerfile, Kubernetes, Cloud Run, Heroku, Railway/Render) into a directory. Never writes a
 * key; never overwrites, and never writes through a symlinked directory, without `--force`.
 * `--out` may name any directory; what is generated does not depend on it (see deploy/options).
 *
 * Exit codes: 0 written, 1 files exist (nothing written) or the disk refused, 2 invalid options.
 */

import { realpathSync } from 'node:fs';
import { isAbsolute, parse } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../config/load.js';
import { generateFiles } from '../operator/deploy/generate.js';
import { buildDeployment, DEFAULT_IMAGE, DEFAULT_OUT, type DeployInput } from '../operator/deploy/options.js';
import { PLATFORMS } from '../operator/deploy/platforms.js';
import { summaryLines } from '../operator/deploy/summary.js';
import { TargetIsDirectoryError, writeGeneratedFiles, type WriteOutcome } from '../operator/deploy/writer.js';
import { EXIT_NOT_WRITTEN, EXIT_OK, EXIT_USAGE } from './exit-codes.js';

export interface DeployOptions extends DeployInput {
  readonly force?: boolean;
}

/** The real path of `path` (symlinks resolved), or `path` itself when it cannot be resolved. */
function realTarget(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Where the command runs and writes its messages (the process in the CLI; buffers in tests). */
export interface DeployIo {
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/**
 * Runs `mcp-warden deploy` and returns its exit code.
 *
 * @example
 * const code = await runDeploy({ platform: 'kubernetes', replicas: '3' }, { cwd: process.cwd(), stdout: console.log, stderr: console.error });
 */
export async function runDeploy(options: DeployOptions, io: DeployIo): Promise<number> {
  let built: ReturnType<typeof buildDeployment>;
  try {
    built = buildDeployment(options, io.cwd);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`mcp-warden deploy: invalid options:\n  - ${error.problems.join('\n  - ')}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
  const { deployment, outDir, inside } = built;
  const where = inside ? (deployment.outPath === '' ? '.' : deployment.outPath) : outDir;
  const shown = (file: string): string => (where === '.' ? file : `${where}/${file}`);
  // Components the operator named are checked for symlinks: below the current directory for a relative --out.
  const base = options.out !== undefined && isAbsolute(options.out) ? parse(outDir).root : inside ? io.cwd : parse(outDir).root;

  let outcome: WriteOutcome;
  try {
    outcome = await writeGeneratedFiles(outDir, generateFiles(deployment), { force: options.force === true, base });
  } catch (error) {
    const reason =
      error instanceof TargetIsDirectoryError
        ? `${shown(error.path)} is a directory; move it away first`
        : `cannot write to ${where} (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    io.stderr(`mcp-warden deploy: ${reason}\n`);
    return EXIT_NOT_WRITTEN;
  }
  if (outcome.kind === 'symlinked') {
    io.stderr(
      `mcp-warden deploy: nothing was written because these directories on the way are symlinks (use --force to write through them):\n${outcome.paths.map((path) => `  ${path} -> ${realTarget(path)}\n`).join('')}`,
    );
    return EXIT_NOT_WRITTEN;
  }
  if (outcome.kind === 'exists') {
    io.stderr(
      `mcp-warden deploy: nothing was written because these files exist (use --force to overwrite them):\n${outcome.paths.map((path) => `  ${shown(path)}\n`).join('')}`,
    );
    return EXIT_NOT_WRITTEN;
  }
  io.stdout(`${summaryLines(deployment, outcome.paths, inside ? undefined : realTarget(outDir)).join('\n')}\n`);
  return EXIT_OK;
}

export function registerDeploy(program: Command): void {
  program
    .command('deploy')
    .description('write production deployment files (config, security checklist, Dockerfile, Kubernetes, Cloud Run, Heroku, Railway/Render); never writes a key')
    .option('--out <dir>', `directory to write into, anywhere (default ./${DEFAULT_OUT}); outside the current directory the files expect to be copied to ./${DEFAULT_OUT}`)
    .option('--platform <names>', `all, or a comma-separated list of ${PLATFORMS.join(', ')} (default all)`)
    .option('--domain <host>', 'public host name: pins allowedHosts and sets publicUrl to https://HOST')
    .option('--replicas <n>', 'number of instances (default 1); above 1 the checklist flags the per-replica limits and sessions')
    .option('--image <ref>', `container image for Kubernetes and Cloud Run (default ${DEFAULT_IMAGE})`)
    .option('--force', 'overwrite files that already exist, and write through symlinked directories')
    .action(async (options: DeployOptions) => {
      process.exitCode = await runDeploy(options, {
        cwd: process.cwd(),
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
      });
    });
}
