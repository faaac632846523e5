/**
 * @module bench/lib/stdio-direct
 * The floor of the gateway benchmark: the echo tool of server-everything called over stdio with
 * no gateway in between. Two clients: a raw one (newline-delimited JSON-RPC written and read on
 * the child's pipes, one call in flight, every answer checked) used for throughput with N
 * clients each with its own child and for sequential latency, and the official v2 SDK client
 * (`@modelcontextprotocol/client` with its `StdioClientTransport`) for sequential latency as
 * an SDK user sees it. Hand-written raw client: it is the cheapest possible caller, which is
 * what a floor must be; the SDK one is measured beside it.
 */

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Samples } from './stats.mjs';
import { ECHO_ARGUMENTS, ECHO_EXPECTED, ECHO_TOOL, isAnswerLine, LineReader, stdioCallLine, stdioEchoProblem, stdioHandshake } from './gateway-calls.mjs';

const require = createRequire(import.meta.url);
/** server-everything's entry point, resolved from the project's node_modules (never npx). */
export const EVERYTHING_ENTRY = join(dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')), 'dist', 'index.js');
/** The upstream command every row runs: this Node, server-everything, its stdio mode. */
export const EVERYTHING_ARGV = Object.freeze([process.execPath, EVERYTHING_ENTRY, 'stdio']);

const CALL_TIMEOUT_MS = 10_000;

/** A raw stdio MCP client on its own server-everything child: one request in flight at a time. */
export class RawStdioClient {
  /** @type {import('node:child_process').ChildProcess} */
  child;
  #reader = new LineReader();
  /** @type {((line: string) => void) | undefined} */
  #waiting;
  #exited = false;
  /** The id of the next call (1 is the handshake's). */
  #nextId = 2;

  constructor() {
    this.child = spawn(EVERYTHING_ARGV[0], EVERYTHING_ARGV.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      for (const line of this.#reader.push(chunk)) {
        if (!isAnswerLine(line)) continue;
        const waiting = this.#waiting;
        this.#waiting = undefined;
        waiting?.(line);
      }
    });
    this.child.once('exit', () => {
      this.#exited = true;
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting?.('');
    });
    this.child.stdin.on('error', () => {});
  }

  get pid() {
    return this.child.pid;
  }

  /** Writes one line and resolves with the next answer line ('' if the child exited). */
  #request(line) {
    if (this.#exited) return Promise.resolve('');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting = undefined;
        reject(new Error(`stdio child ${this.pid} did not answer within ${CALL_TIMEOUT_MS / 1000}s`));
      }, CALL_TIMEOUT_MS);
      this.#waiting = (answer) => {
        clearTimeout(timer);
        resolve(answer);
      };
      this.child.stdin.write(line);
    });
  }

  /** initialize + notifications/initialized, then one echo call checked. */
  async open() {
    const handshake = stdioHandshake();
    const init = await this.#request(handshake.initialize);
    if (!init.includes('"protocolVersion"')) throw new Error(`stdio initialize answered: ${init.slice(0, 200)}`);
    this.child.stdin.write(handshake.initialized);
    const { problem } = await this.call();
    if (problem !== undefined) throw new Error(`stdio echo call is wrong: ${problem}`);
    return this;
  }

  /** One echo call: its latency in ms and why its answer is wrong (undefined when right). */
  async call() {
    const id = this.#nextId++;
    const line = stdioCallLine(id);
    const start = process.hrtime.bigint();
    const answer = await this.#request(line);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    return { ms, problem: stdioEchoProblem(answer, id) };
  }

  async close() {
    if (this.#exited) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Closed-loop load: each client sends its next call as soon as its answer arrived, for
 * `durationMs`. Every answer is checked; a wrong one counts in `mismatches`, never in
 * `requests`.
 *
 * @param {RawStdioClient[]} clients
 * @param {number} durationMs
 */
export async function closedLoop(clients, durationMs) {
  const latencies = new Samples();
  let requests = 0;
  let mismatches = 0;
  let errors = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  await Promise.all(
    clients.map(async (client) => {
      while (performance.now() < deadline) {
        try {
          const { ms, problem } = await client.call();
          if (problem === undefined) {
            requests++;
            latencies.push(ms);
          } else mismatches++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { requests, mismatches, errors, seconds, requestsPerSec: requests / seconds, latencies };
}

/**
 * Sequential calls with the official v2 SDK client over stdio (its own child): `warmup` calls,
 * then calls for `durationMs`, each timed around `client.callTool` and checked.
 *
 * @param {number} durationMs
 * @param {number} [warmup]
 */
export async function sdkStdioSequential(durationMs, warmup = 50) {
  const { Client } = await import('@modelcontextprotocol/client');
  const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
  const transport = new StdioClientTransport({ command: EVERYTHING_ARGV[0], args: EVERYTHING_ARGV.slice(1), stderr: 'ignore' });
  const client = new Client({ name: 'mcp-warden-bench', version: '1.0.0' });
  await client.connect(transport);
  try {
    return await sdkSequential(client, ECHO_TOOL, durationMs, warmup);
  } finally {
    await client.close();
  }
}

/**
 * Sequential `callTool` timings on a connected SDK client (stdio or HTTP).
 *
 * @param {{ callTool: (params: { name: string, arguments: Record<string, unknown> }) => Promise<any> }} client
 * @param {string} name the echo tool as this connection serves it
 * @param {number} durationMs
 * @param {number} warmup
 */
export async function sdkSequential(client, name, durationMs, warmup) {
  const latencies = new Samples();
  let mismatches = 0;
  const check = (result) => result?.isError !== true && result?.content?.[0]?.text === ECHO_EXPECTED;
  for (let i = 0; i < warmup; i++) if (!check(await client.callTool({ name, arguments: { ...ECHO_ARGUMENTS } }))) mismatches++;
  const deadline = performance.now() + durationMs;
  let requests = 0;
  while (performance.now() < deadline) {
    const start = process.hrtime.bigint();
    const result = await client.callTool({ name, arguments: { ...ECHO_ARGUMENTS } });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (check(result)) {
      requests++;
      latencies.push(ms);
    } else mismatches++;
  }
  return { requests, mismatches, latencies };
}
