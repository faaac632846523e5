/**
 * Errors that escape every handler reach the CLI's process-level handlers: a stray promise
 * rejection is logged and counted while the server keeps serving; an uncaught exception is
 * logged and counted, then the server stops gracefully with exit code 1. The faults are
 * injected with `--import` of a tiny module, so the server code under test is the real one.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { getWithKey } from '../helpers/http.js';
import { until } from '../helpers/wait.js';

const KEY = 'process-errors-key-0123456789abcdefghij';
const children = new Set<ChildProcess>();

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  lines(): Array<Record<string, unknown>>;
  exited(): number | null | undefined;
}

/** Starts the CLI with `fault` (module source) preloaded; resolves once it listens. */
async function startWith(fault: string): Promise<Started> {
  const child = spawn(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(fault)}`, CLI, '--port', '0'], {
    env: { PATH: process.env['PATH'] ?? '', MCP_API_KEYS: KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let text = '';
  let code: number | null | undefined;
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.on('exit', (exitCode) => (code = exitCode));
  const lines = (): Array<Record<string, unknown>> =>
    text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(await until(async () => lines().some((line) => line['msg'] === 'mcp-warden listening'), 10_000)).toBe(true);
  const url = String(lines().find((line) => line['msg'] === 'mcp-warden listening')?.['url']);
  return { child, url, lines, exited: () => code };
}

describe('process-level errors', () => {
  it('a stray promise rejection is logged and counted; the server keeps serving', async () => {
    const server = await startWith("setTimeout(() => { Promise.reject(new Error('stray rejection')); }, 1500);");
    expect(await until(async () => server.lines().some((line) => line['kind'] === 'unhandled_rejection'), 8000)).toBe(true);
    const line = server.lines().find((entry) => entry['kind'] === 'unhandled_rejection');
    expect(line).toMatchObject({ level: 'error', msg: 'unhandled promise rejection; still serving' });
    expect((await getWithKey(server.url, '/health', KEY)).status).toBe(200);
    const metrics = await getWithKey(server.url, '/metrics', KEY);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/mcp_warden_process_errors_total\{kind="unhandled_rejection"\} 1/);
    expect(server.exited()).toBeUndefined();
  }, 30_000);

  it('an uncaught exception is logged and counted, then the server stops gracefully with exit code 1', async () => {
    const server = await startWith("setTimeout(() => { throw new Error('uncaught boom'); }, 1500);");
    expect(await until(async () => server.exited() !== undefined, 10_000)).toBe(true);
    expect(server.exited()).toBe(1);
    const messages = server.lines().map((line) => line['msg']);
    expect(server.lines().find((line) => line['kind'] === 'uncaught_exception')).toMatchObject({ level: 'error', msg: 'uncaught exception; stopping gracefully' });
    // The graceful stop ran (its last line). Lines written in the last moments before exit may
    // reach stdout out of order (an asynchronous write in flight while the exit flush writes the
    // rest), so the order is read from their timestamps, not their position.
    expect(messages).toContain('mcp-warden stopped');
    const time = (msg: string): number => Date.parse(String(server.lines().find((line) => line['msg'] === msg)?.['time']));
    expect(time('mcp-warden stopped')).toBeGreaterThanOrEqual(time('uncaught exception; stopping gracefully'));
  }, 30_000);
});
