/**
 * The built `mcp-warden` command in a child process, as users run it: one-shot commands, and
 * a server started with `--port 0` whose URL is read from its "listening" log line.
 */

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** The environment a child gets: PATH plus what the test passes (nothing else leaks in). */
function childEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '', ...env };
}

export interface CommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion. */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): CommandResult {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: childEnv(options.env ?? {}), cwd: options.cwd, timeout: 15_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs a command to completion without blocking this process: for commands that talk to a
 * server the test itself runs (spawnSync would stall that server's event loop).
 */
export function runCliAsync(args: string[], options: { env?: Record<string, string> } = {}): Promise<CommandResult> {
  const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(options.env ?? {}) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) => {
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

export interface ServedCli {
  readonly child: ChildProcessWithoutNullStreams;
  /** Base URL from the "mcp-warden listening" log line. */
  readonly url: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process ends. */
  exit(): Promise<number | null>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<number | null>;
}

/** Servers started by this test process, killed when it exits (even after a failure). */
const running = new Set<ChildProcessWithoutNullStreams>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `mcp-warden --port 0 …` and resolves once it listens. */
export function serveCli(args: string[], env: Record<string, string> = {}): Promise<ServedCli> {
  const child = spawn(process.execPath, [CLI, '--port', '0', ...args], { env: childEnv(env) });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /"msg":"mcp-warden listening"/.test(stdout) ? /"url":"(http:\/\/[^"]+)"/.exec(stdout) : null;
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      // Anything written right after listening (the one-time key banner) arrives meanwhile.
      setTimeout(
        () =>
          resolve({
            child,
            url: match[1] as string,
            stdout: () => stdout,
            stderr: () => stderr,
            exit: () => exited,
            stop: async () => {
              if (child.exitCode === null) child.kill('SIGTERM');
              return exited;
            },
          }),
        150,
      );
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited early with ${code}: ${stderr}`));
    });
  });
}
