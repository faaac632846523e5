/**
 * A server whose stdout reader went away (a log collector that died, a parent that closed the
 * pipe) still stops on SIGTERM. With pino's own destination (sonic-boom 4) the exit-time flush
 * retried the broken pipe for ever and the process ignored every later signal.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';

const KEY = 'broken-stdout-key-0123456789abcdefghij';
const children = new Set<ChildProcess>();

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

/** Starts the CLI, closes its stdout once it listens, then sends SIGTERM; resolves with the exit code (null if it hung). */
function stopWithClosedStdout(): Promise<number | null> {
  const child = spawn(process.execPath, [CLI, '--port', '0'], { env: { PATH: process.env['PATH'] ?? '', MCP_API_KEYS: KEY }, stdio: ['ignore', 'pipe', 'ignore'] });
  children.add(child);
  return new Promise((resolve) => {
    const hung = setTimeout(() => resolve(null), 6000);
    child.on('exit', (code) => {
      clearTimeout(hung);
      resolve(code);
    });
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (!seen.includes('mcp-warden listening')) return;
      child.stdout?.destroy();
      setTimeout(() => child.kill('SIGTERM'), 200);
    });
  });
}

describe('stdout reader gone', () => {
  it('the server still stops on SIGTERM, with exit code 0 (three tries: the hang was a race)', async () => {
    const codes = await Promise.all([stopWithClosedStdout(), stopWithClosedStdout(), stopWithClosedStdout()]);
    expect(codes).toEqual([0, 0, 0]);
  }, 20_000);
});
