/**
 * `--tool-rate-limit` / `MCP_TOOL_RATE_LIMIT` / `toolRateLimit`: every source parses into the
 * same typed list, and every bad entry (window, count, tool name, a tool named twice) is a
 * config error naming where it came from.
 */

import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configFromValues, loadConfig } from '../../src/config/load.js';

function tempFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'warden-tool-limits-')), 'config.json');
  writeFileSync(path, JSON.stringify(content));
  chmodSync(path, 0o600);
  return path;
}

function problems(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const CALC_30_60 = { tool: 'calculate', limit: 30, windowMs: 60_000 };

describe('toolRateLimit option', () => {
  it('is empty by default', () => {
    expect(loadConfig().toolRateLimit).toEqual([]);
  });

  it('parses the repeatable flag, the comma-separated env var and both config-file forms into one typed list', () => {
    const expected = [CALC_30_60, { tool: 'echo', limit: 100, windowMs: 10_000 }];
    expect(loadConfig({ flags: { toolRateLimit: ['calculate=30/60s', 'echo=100/10s'] } }).toolRateLimit).toEqual(expected);
    expect(loadConfig({ env: { MCP_TOOL_RATE_LIMIT: 'calculate=30/60s, echo=100/10s' } }).toolRateLimit).toEqual(expected);
    expect(loadConfig({ configFile: tempFile({ toolRateLimit: ['calculate=30/60s', 'echo=100/10s'] }) }).toolRateLimit).toEqual(expected);
    expect(loadConfig({ configFile: tempFile({ toolRateLimit: { calculate: '30/60s', echo: '100/10s' } }) }).toolRateLimit).toEqual(expected);
    // Given in code: the parsed form.
    expect(configFromValues({ toolRateLimit: [CALC_30_60] }).toolRateLimit).toEqual([CALC_30_60]);
  });

  it('reads every window unit, and the bounds 1 s and 24 h', () => {
    const config = loadConfig({ env: { MCP_TOOL_RATE_LIMIT: 'a=1/1000ms,b=2/1s,c=3/90m,d=1000000/24h,e.f-g_h=5/2h' } });
    expect(config.toolRateLimit).toEqual([
      { tool: 'a', limit: 1, windowMs: 1000 },
      { tool: 'b', limit: 2, windowMs: 1000 },
      { tool: 'c', limit: 3, windowMs: 5_400_000 },
      { tool: 'd', limit: 1_000_000, windowMs: 86_400_000 },
      { tool: 'e.f-g_h', limit: 5, windowMs: 7_200_000 },
    ]);
    expect(Object.isFrozen(config.toolRateLimit)).toBe(true);
  });

  it('refuses bad windows, naming the source', () => {
    for (const [value, reason] of [
      ['calculate=30/60x', 'expected tool=n/window'],
      ['calculate=30/60', 'expected tool=n/window'],
      ['calculate=30', 'expected tool=n/window'],
      ['calculate=30/1.5s', 'expected tool=n/window'],
      ['calculate=30/999ms', 'the window must be from 1s to 24h'],
      ['calculate=30/0s', 'the window must be from 1s to 24h'],
      ['calculate=30/25h', 'the window must be from 1s to 24h'],
      ['calculate=30/1441m', 'the window must be from 1s to 24h'],
    ] as const) {
      const found = problems(() => loadConfig({ env: { MCP_TOOL_RATE_LIMIT: value } }));
      expect(found, value).toHaveLength(1);
      expect(found[0]?.startsWith(`MCP_TOOL_RATE_LIMIT (environment): ${JSON.stringify(value)}: ${reason}`), found[0]).toBe(true);
    }
  });

  it('refuses counts outside 1..1000000', () => {
    expect(problems(() => loadConfig({ flags: { toolRateLimit: ['calculate=0/60s'] } }))).toEqual(['--tool-rate-limit: "calculate=0/60s": n must be from 1 to 1000000']);
    expect(problems(() => loadConfig({ flags: { toolRateLimit: ['calculate=1000001/60s'] } }))).toEqual(['--tool-rate-limit: "calculate=1000001/60s": n must be from 1 to 1000000']);
    expect(problems(() => loadConfig({ flags: { toolRateLimit: ['calculate=-1/60s'] } }))[0]).toMatch(/^--tool-rate-limit: "calculate=-1\/60s": expected tool=n\/window/);
  });

  it('refuses names outside the MCP tool-name charset', () => {
    expect(problems(() => loadConfig({ flags: { toolRateLimit: ['bad name=30/60s'] } }))).toEqual(['--tool-rate-limit: "bad name": not a tool name (1-128 of A-Z a-z 0-9 _ - .)']);
    expect(problems(() => loadConfig({ flags: { toolRateLimit: ['=30/60s'] } }))).toEqual(['--tool-rate-limit: "": not a tool name (1-128 of A-Z a-z 0-9 _ - .)']);
    expect(problems(() => loadConfig({ flags: { toolRateLimit: ['caf\u00e9=30/60s'] } }))).toEqual(['--tool-rate-limit: "caf\u00e9": not a tool name (1-128 of A-Z a-z 0-9 _ - .)']);
    expect(problems(() => loadConfig({ flags: { toolRateLimit: [`${'x'.repeat(129)}=30/60s`] } }))[0]).toMatch(/^--tool-rate-limit: "x{80}…": not a tool name/);
    expect(loadConfig({ flags: { toolRateLimit: [`${'x'.repeat(128)}=30/60s`] } }).toolRateLimit[0]?.tool).toHaveLength(128);
  });

  it('refuses a tool named twice, naming the source', () => {
    expect(problems(() => loadConfig({ flags: { toolRateLimit: ['calculate=30/60s', 'echo=1/1s', 'calculate=1/1s'] } }))).toEqual([
      '--tool-rate-limit: duplicate tool "calculate" (give each tool one limit)',
    ]);
    expect(problems(() => loadConfig({ env: { MCP_TOOL_RATE_LIMIT: 'echo=1/1s,echo=2/2s' } }))).toEqual([
      'MCP_TOOL_RATE_LIMIT (environment): duplicate tool "echo" (give each tool one limit)',
    ]);
    const file = tempFile({ toolRateLimit: ['echo=1/1s', 'echo=2/2s'] });
    expect(problems(() => loadConfig({ configFile: file }))).toEqual([`"toolRateLimit" in ${file}: duplicate tool "echo" (give each tool one limit)`]);
    expect(problems(() => configFromValues({ toolRateLimit: [CALC_30_60, CALC_30_60] }))).toEqual(['option toolRateLimit: duplicate tool "calculate" (give each tool one limit)']);
  });

  it('refuses other shapes in the config file', () => {
    const file = tempFile({ toolRateLimit: { calculate: 30 } });
    expect(problems(() => loadConfig({ configFile: file }))[0]).toMatch(new RegExp(`^"toolRateLimit" in ${file}: "calculate=30": expected tool=n/window`));
    const number = tempFile({ toolRateLimit: 42 });
    expect(problems(() => loadConfig({ configFile: number }))[0]).toMatch(/expected tool=n\/window entries/);
    expect(problems(() => configFromValues({ toolRateLimit: [{ ...CALC_30_60, extra: 1 } as never] }))[0]).toMatch(/^option toolRateLimit: expected tool=n\/window/);
  });

  it('bounds how many tools and distinct windows may be configured', () => {
    const tools = Array.from({ length: 257 }, (_, index) => `t${index}=1/1s`);
    expect(problems(() => loadConfig({ flags: { toolRateLimit: tools } }))).toEqual(['--tool-rate-limit: at most 256 tools']);
    const windows = Array.from({ length: 17 }, (_, index) => `t${index}=1/${index + 1}s`);
    expect(problems(() => loadConfig({ flags: { toolRateLimit: windows } }))).toEqual(['--tool-rate-limit: at most 16 distinct windows (each is a limiter of its own)']);
  });
});
