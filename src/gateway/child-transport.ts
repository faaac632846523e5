/**
 * @module gateway/child-transport
 * The SDK client `Transport` for a stdio MCP server we spawn: newline-delimited JSON-RPC on the
 * child's stdin/stdout (MCP spec, Transports § stdio).
 *
 * Hand-written because the SDK's `StdioClientTransport` can neither put the child in its own
 * process group nor bound its output, and a gateway must do both:
 * - `detached: true` makes the child a process-group leader, so `close()` signals the whole group
 *   (`kill(-pid)`): SIGTERM, then SIGKILL after a deadline. Grandchildren (`npx` → node,
 *   `uvx` → python) go with it. Resolves once the child has exited.
 * - The child's environment is what its config names plus a minimal base ({@link childEnv}):
 *   never our keys, secrets, Redis URL or anything else of the parent environment.
 * - A stdout line longer than `maxLineBytes` closes the child with an error (a child flooding us
 *   must not grow our memory); a response line longer than `maxResultBytes` (but within the line
 *   cap) is replaced by a JSON-RPC error for the same request id (marked {@link RESULT_TOO_LARGE}),
 *   so the caller gets a clear refusal and the child lives on.
 * - stderr goes to our logger, one entry per line, lines clipped and secrets redacted, at most
 *   `stderrBytesPerMinute` bytes per minute (the rest is dropped and counted).
 *
 * An unexpected exit reports `onerror` (naming the upstream, the exit code or signal) then
 * `onclose`; the SDK client then rejects every in-flight request.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { deserializeMessage, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/client';
import { RPC } from '../wire-codes.js';
import { redactText } from './secrets.js';
import { realTimers, type Timers } from './timers.js';
import type { EnvMap } from './config.js';

/** `error.data.warden` of the JSON-RPC error that stands in for a result over `maxResultBytes`. */
export const RESULT_TOO_LARGE = 'result_too_large';

/** Variables of the parent environment a child inherits (plus every `LC_*`). */
export const BASE_ENV_KEYS = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'] as const;
const WINDOWS_BASE_ENV_KEYS = ['SystemRoot', 'SYSTEMROOT', 'PATHEXT', 'TEMP', 'TMP', 'USERPROFILE', 'APPDATA', 'LOCALAPPDATA'] as const;

/**
 * The environment of a child: `PATH`, `HOME`, `LANG`, `LC_*`, `TZ`, `TMPDIR` from `parent` (and
 * on Windows the few variables a process cannot start without), then `configured` over them.
 *
 * @example
 * childEnv({ GITHUB_TOKEN: token }, process.env); // { PATH: ..., HOME: ..., GITHUB_TOKEN: ... }
 */
export function childEnv(configured: Readonly<Record<string, string>>, parent: EnvMap, platform: NodeJS.Platform = process.platform): Record<string, string> {
  const env: Record<string, string> = {};
  const keys: readonly string[] = platform === 'win32' ? [...BASE_ENV_KEYS, ...WINDOWS_BASE_ENV_KEYS] : BASE_ENV_KEYS;
  for (const key of keys) {
    const value = parent[key];
    if (value !== undefined) env[key] = value;
  }
  for (const [key, value] of Object.entries(parent)) {
    if (key.startsWith('LC_') && value !== undefined) env[key] = value;
  }
  return Object.assign(env, configured);
}

export interface ChildTransportOptions {
  /** Upstream name, for messages and log entries. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Variables the upstream config names (already expanded). */
  readonly env: Readonly<Record<string, string>>;
  /** Where the minimal base (`PATH`, `HOME`...) is read from; the composition root passes `process.env`. */
  readonly parentEnv: EnvMap;
  readonly cwd?: string | undefined;
  readonly logger: Logger;
  /** Hard cap of one stdout line; beyond it the child is closed with an error. Default 16 MiB. */
  readonly maxLineBytes?: number;
  /** Soft cap of one response; beyond it the response becomes an error for its id. Default `maxLineBytes`. */
  readonly maxResultBytes?: number;
  /** Between SIGTERM and SIGKILL of the process group on close, ms. Default 5000. */
  readonly killAfterMs?: number;
  /** stderr lines are clipped to this many characters. Default 2000. */
  readonly stderrLineChars?: number;
  /** stderr bytes logged per minute; the rest is dropped and counted. Default 64 KiB. */
  readonly stderrBytesPerMinute?: number;
  readonly timers?: Timers;
}

const DEFAULT_MAX_LINE = 16 * 1024 * 1024;
const MINUTE = 60_000;

/**
 * A stdio child as an SDK `Transport`.
 *
 * @example
 * const transport = new ChildTransport({ name: 'everything', command: process.execPath, args: [bin], env: {}, parentEnv: process.env, logger });
 * await client.connect(transport);
 * await transport.close(); // SIGTERM to the group, SIGKILL after 5 s, resolves once exited
 */
export class ChildTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T) => void) | undefined;

  readonly #options: ChildTransportOptions;
  readonly #timers: Timers;
  readonly #maxLine: number;
  readonly #maxResult: number;
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #closing = false;
  #closed = false;
  // stdout framing: chunks of the current, incomplete line.
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  // stderr: the partial line, and the per-minute budget.
  #stderrLine = '';
  #stderrSkipping = false;
  #stderrWindowStart = 0;
  #stderrWindowBytes = 0;
  #stderrDropped = 0;

  constructor(options: ChildTransportOptions) {
    this.#options = options;
    this.#timers = options.timers ?? realTimers;
    this.#maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE;
    this.#maxResult = Math.min(options.maxResultBytes ?? this.#maxLine, this.#maxLine);
  }

  /** The child's pid (also its process group id) once spawned. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): Promise<void> {
    if (this.#child !== undefined) throw new Error('ChildTransport already started');
    const options = this.#options;
    return new Promise((resolve, reject) => {
      const child = spawn(options.command, [...options.args], {
        cwd: options.cwd,
        env: childEnv(options.env, options.parentEnv),
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      });
      this.#child = child;
      this.#exited = new Promise((done) => child.once('exit', () => done()));
      child.once('error', (error) => {
        // Spawn failures (ENOENT, EACCES) come here instead of 'spawn'.
        const failure = new Error(`upstream "${options.name}": cannot start ${(error as NodeJS.ErrnoException).code ?? 'process'}`, { cause: error });
        reject(failure);
        this.#finish(failure);
      });
      child.once('spawn', () => resolve());
      child.once('exit', (code, signal) => {
        if (this.#closing) return this.#finish(undefined);
        options.logger.warn({ upstream: options.name, childPid: child.pid, code, signal }, 'upstream child exited');
        this.#killGroup('SIGTERM');
        this.#finish(new Error(`upstream "${options.name}" exited (${signal === null ? `code ${code}` : signal})`));
      });
      child.stdin?.on('error', () => {
        // EPIPE after the child died: 'exit' reports it.
      });
      child.stdout?.on('data', (chunk: Buffer) => this.#onStdout(chunk));
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => this.#onStderr(chunk));
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (stdin === undefined || stdin === null || this.#closed || this.#closing) throw new Error(`upstream "${this.#options.name}": not connected`);
    if (!stdin.write(`${JSON.stringify(message)}\n`)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          stdin.off('drain', done);
          stdin.off('close', done);
          resolve();
        };
        stdin.once('drain', done);
        stdin.once('close', done);
      });
    }
  }

  /** SIGTERM to the process group, SIGKILL after `killAfterMs`; resolves when the child has exited. */
  async close(): Promise<void> {
    const child = this.#child;
    if (child === undefined || this.#exited === undefined) {
      this.#finish(undefined);
      return;
    }
    if (this.#closed && !this.#groupAlive()) return;
    this.#closing = true;
    child.stdin?.end();
    this.#killGroup('SIGTERM');
    let killTimer: unknown;
    const deadline = new Promise<void>((resolve) => {
      killTimer = this.#timers.setTimeout(() => {
        this.#killGroup('SIGKILL');
        resolve();
      }, this.#options.killAfterMs ?? 5000);
    });
    await Promise.race([this.#exited, deadline]);
    // The leader went but a member of its group (a grandchild) ignores SIGTERM: wait for the deadline.
    if (this.#groupAlive()) await deadline;
    await this.#exited;
    this.#timers.clearTimeout(killTimer);
    this.#finish(undefined);
  }

  #groupAlive(): boolean {
    const pid = this.#child?.pid;
    if (pid === undefined) return false;
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  #killGroup(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(process.platform === 'win32' ? pid : -pid, signal);
    } catch {
      // ESRCH: already gone.
    }
  }

  #finish(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#flushStderrDrops();
    if (error !== undefined) this.onerror?.(error);
    this.onclose?.();
  }

  #onStdout(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) {
        this.#pending.push(chunk.subarray(start));
        this.#pendingBytes += chunk.length - start;
        if (this.#pendingBytes > this.#maxLine) this.#overflow();
        return;
      }
      const piece = chunk.subarray(start, newline);
      const bytes = this.#pendingBytes + piece.length;
      if (bytes > this.#maxLine) return this.#overflow();
      const line = this.#pending.length === 0 ? piece.toString('utf8') : Buffer.concat([...this.#pending, piece], bytes).toString('utf8');
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#onLine(line, bytes);
      if (this.#closed) return;
      start = newline + 1;
    }
  }

  #overflow(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    const error = new Error(`upstream "${this.#options.name}": a message exceeds ${this.#maxLine} bytes`);
    this.#options.logger.warn({ upstream: this.#options.name, childPid: this.pid, maxLineBytes: this.#maxLine }, 'upstream message over the line cap; closing the child');
    this.#child?.stdout?.removeAllListeners('data');
    this.onerror?.(error);
    void this.close();
  }

  #onLine(line: string, bytes: number): void {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.trim() === '') return;
    let message: JSONRPCMessage;
    try {
      message = deserializeMessage(text);
    } catch {
      // Servers print banners to stdout; the line's content stays out of our logs.
      this.onerror?.(new Error(`upstream "${this.#options.name}": a stdout line is not JSON-RPC (${bytes} bytes)`));
      return;
    }
    if (bytes > this.#maxResult) {
      if ('id' in message && ('result' in message || 'error' in message)) {
        this.#options.logger.warn({ upstream: this.#options.name, bytes, maxResultBytes: this.#maxResult }, 'upstream result over maxResultBytes');
        message = { jsonrpc: '2.0', id: message.id, error: { code: RPC.SERVER_ERROR, message: 'Result too large', data: { warden: RESULT_TOO_LARGE, bytes } } } as JSONRPCMessage;
      } else {
        this.onerror?.(new Error(`upstream "${this.#options.name}": a message over maxResultBytes was dropped (${bytes} bytes)`));
        return;
      }
    }
    this.onmessage?.(message);
  }

  #onStderr(chunk: string): void {
    const limit = this.#options.stderrLineChars ?? 2000;
    let text = chunk;
    let newline = text.indexOf('\n');
    if (this.#stderrSkipping) {
      // The rest of a line already logged clipped.
      if (newline === -1) return;
      this.#stderrSkipping = false;
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    text = this.#stderrLine + text;
    if (this.#stderrLine !== '') newline = text.indexOf('\n');
    while (newline !== -1) {
      this.#logStderr(text.slice(0, newline), limit);
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    // A line longer than the limit is logged clipped at once and its rest skipped: never buffered whole.
    if (text.length > limit) {
      this.#logStderr(text, limit);
      this.#stderrSkipping = true;
      text = '';
    }
    this.#stderrLine = text;
  }

  #logStderr(raw: string, limit: number): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') return;
    const now = this.#timers.now();
    if (now - this.#stderrWindowStart >= MINUTE) {
      this.#flushStderrDrops();
      this.#stderrWindowStart = now;
      this.#stderrWindowBytes = 0;
    }
    const clipped = line.length > limit ? `${line.slice(0, limit)}…[clipped]` : line;
    const size = Buffer.byteLength(clipped);
    if (this.#stderrWindowBytes + size > (this.#options.stderrBytesPerMinute ?? 64 * 1024)) {
      this.#stderrDropped++;
      return;
    }
    this.#stderrWindowBytes += size;
    // A child may print a token it was given: the log gets the redacted line (gateway/secrets).
    this.#options.logger.info({ upstream: this.#options.name, childPid: this.pid, stderr: redactText(clipped) }, 'upstream stderr');
  }

  #flushStderrDrops(): void {
    if (this.#stderrDropped === 0) return;
    this.#options.logger.warn({ upstream: this.#options.name, childPid: this.pid, droppedLines: this.#stderrDropped }, 'upstream stderr over its budget; lines dropped');
    this.#stderrDropped = 0;
  }
}
