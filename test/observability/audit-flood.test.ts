/**
 * Floods of refused requests cannot wipe or drown the audit trail: repeated refusals from one
 * client are recorded once per interval plus one aggregate with a count (counts exact), a small
 * rotation size no longer loses the records written before the flood, refusals can go to a
 * file of their own, and `audit verify --all` says what rotation pruned.
 */

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { mcpHeaders, send } from '../helpers/http.js';
import { pipelineFlood, rawGet } from '../helpers/pipeline.js';
import { openSession, stillServing, useWarden, type RunningWarden } from '../helpers/warden.js';
import { within } from '../helpers/wait.js';

type AuditRecord = { seq: number; event: string; kind?: string; reason?: string; limit?: string; ip?: string; count?: number };

function tempAuditPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'warden-audit-flood-')), 'audit.log');
}

/** Records of the trail at `path` (rotated files first). */
function records(path: string): AuditRecord[] {
  const files = [`${path}.2`, `${path}.1`, path].filter((file) => existsSync(file));
  return files.flatMap((file) =>
    readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as AuditRecord),
  );
}

/** Refusals of `event`/`reason` from `ip` in the trail: individual records plus aggregated counts. */
function refusalCount(trail: readonly AuditRecord[], ip: string, event: string, reason: string): number {
  const own = trail.filter((record) => record.event === event && record.ip === ip && (record.reason ?? record.limit) === reason).length;
  const folded = trail
    .filter((record) => record.event === 'refusals_aggregated' && record.kind === event && record.reason === reason && record.ip === ip)
    .reduce((sum, record) => sum + (record.count ?? 0), 0);
  return own + folded;
}

/** A session, a tool call through it: the records a flood must not rotate away. */
async function useTools(warden: RunningWarden): Promise<void> {
  const session = await openSession(warden);
  const call = await send(warden.mcpUrl, {
    method: 'POST',
    headers: mcpHeaders(warden.key, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version }),
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'calculate', arguments: { expression: '6*7' } } }),
  });
  expect(call.status).toBe(200);
}

/** Waits (bounded) until the trail holds a record matching `predicate`. */
async function eventually(path: string, predicate: (trail: AuditRecord[]) => boolean): Promise<void> {
  await within(2000, () => existsSync(path) && predicate(records(path)));
}

const NO_KEY = rawGet('/api/status');
const WRONG_KEY = rawGet('/api/status', { authorization: 'Bearer wrong-key-0123456789abcdefghij' });
const NOWHERE = rawGet('/nothing-here');

describe('audit trail under a flood of refused requests', () => {
  it('aggregates refusals per client and kind with exact counts, and keeps what came before the flood', async () => {
    const path = tempAuditPath();
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const warden = await useWarden({
      options: { auditLog: path, auditMaxBytes: 4096, auditMaxFiles: 1, rateLimit: 50, banThreshold: 20, auditAggregateInterval: 60 },
      clock: () => clock,
    });
    await useTools(warden);

    // One client with no key, one with a wrong key (both banned after 20 failures), one
    // hammering a missing route until the rate limit answers 429: 5,000 refusals in all.
    const noKey = await pipelineFlood(warden.url, { count: 2500, localAddress: '127.0.0.2', request: NO_KEY });
    const wrongKey = await pipelineFlood(warden.url, { count: 1500, localAddress: '127.0.0.3', request: WRONG_KEY });
    const limited = await pipelineFlood(warden.url, { count: 1000, localAddress: '127.0.0.4', request: NOWHERE });
    expect(noKey.get(401)).toBe(21);
    expect(noKey.get(403)).toBe(2479);
    expect(wrongKey.get(401)).toBe(21);
    expect(wrongKey.get(403)).toBe(1479);
    expect(limited.get(404)).toBe(50);
    expect(limited.get(429)).toBe(950);

    // The interval ends: the next refusal writes the summaries of the one before.
    clock += 61_000;
    expect((await send(`${warden.url}/api/status`)).status).toBe(401);
    await eventually(path, (trail) => trail.some((record) => record.event === 'refusals_aggregated'));
    expect(await stillServing(warden)).toBe(true);
    await warden.stop();

    const trail = records(path);
    // O(clients × kinds × intervals) records, not 5,000.
    expect(trail.length).toBeLessThan(30);
    // Rotation may move the start to FILE.1, but nothing was pruned: the trail starts at seq 1.
    expect(trail[0]).toMatchObject({ seq: 1, event: 'server_start' });
    expect(trail.map((record) => record.event)).not.toContain('audit_pruned');
    expect(refusalCount(trail, '127.0.0.2', 'auth_failure', 'no_credentials')).toBe(21);
    expect(refusalCount(trail, '127.0.0.2', 'denied', 'banned')).toBe(2479);
    expect(refusalCount(trail, '127.0.0.3', 'auth_failure', 'unknown_key')).toBe(21);
    expect(refusalCount(trail, '127.0.0.3', 'denied', 'banned')).toBe(1479);
    expect(refusalCount(trail, '127.0.0.4', 'rate_limited', 'ip')).toBe(950);
    // Each client and kind: one record at once, one aggregate per interval.
    expect(trail.filter((record) => record.event === 'denied' && record.ip === '127.0.0.2')).toHaveLength(1);
    expect(trail.filter((record) => record.event === 'refusals_aggregated' && record.ip === '127.0.0.2' && record.kind === 'denied')).toHaveLength(1);
    // Bans, sessions and tool calls are never folded into aggregates.
    expect(trail.filter((record) => record.event === 'ip_banned').map((record) => record.ip).sort()).toEqual(['127.0.0.2', '127.0.0.3']);
    for (const event of ['server_start', 'session_created', 'tool_call', 'server_stop']) expect(trail.map((record) => record.event), event).toContain(event);

    const verified = runCli(['audit', 'verify', '--all', path]);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toMatch(/^OK: \d+ records, seq 1\.\./);
    expect(verified.stdout).not.toContain('PRUNED');
  }, 60_000);

  it('keeps refusals in a separate file when asked, so the main trail holds only what matters', async () => {
    const path = tempAuditPath();
    const refusals = join(path, '..', 'refusals.log');
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const warden = await useWarden({
      options: { auditLog: path, auditRefusalsLog: refusals, auditMaxBytes: 4096, auditMaxFiles: 1, banThreshold: 20, auditAggregateInterval: 60 },
      clock: () => clock,
    });
    await useTools(warden);
    const flood = await pipelineFlood(warden.url, { count: 1000, localAddress: '127.0.0.2', request: NO_KEY });
    clock += 61_000;
    expect(await stillServing(warden)).toBe(true);
    await warden.stop();

    const main = records(path);
    expect(main.map((record) => record.event).filter((event) => event !== 'session_created' && event !== 'tool_call')).toEqual(['server_start', 'ip_banned', 'server_stop']);
    expect(main.filter((record) => record.event === 'tool_call').length).toBeGreaterThanOrEqual(2);
    const refused = records(refusals);
    expect(refused.some((record) => record.event === 'ip_banned' || record.event === 'tool_call')).toBe(false);
    expect(refusalCount(refused, '127.0.0.2', 'auth_failure', 'no_credentials')).toBe(flood.get(401));
    expect(refusalCount(refused, '127.0.0.2', 'denied', 'banned')).toBe(flood.get(403));
    expect((flood.get(401) ?? 0) + (flood.get(403) ?? 0)).toBe(1000);
    // Two trails, two chains: each verifies on its own.
    expect(runCli(['audit', 'verify', '--all', path]).stdout).toMatch(/^OK: /);
    expect(runCli(['audit', 'verify', '--all', refusals]).stdout).toMatch(/^OK: /);
  }, 60_000);

  it('without aggregation a flood rotates the trail, and audit verify --all says what was pruned', async () => {
    const path = tempAuditPath();
    const warden = await useWarden({ options: { auditLog: path, auditMaxBytes: 4096, auditMaxFiles: 2, rateLimit: 1_000_000, banThreshold: 0, auditAggregateInterval: 0 } });
    await useTools(warden);
    const flood = await pipelineFlood(warden.url, { count: 300, localAddress: '127.0.0.2', request: NO_KEY });
    expect(flood.get(401)).toBe(300);
    await warden.stop();

    const kept = records(path);
    expect(kept.map((record) => record.event)).not.toContain('server_start');
    const firstKept = kept[0]?.seq as number;
    expect(firstKept).toBeGreaterThan(1);
    const verified = runCli(['audit', 'verify', '--all', path]);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toMatch(/^OK: /);
    expect(verified.stdout).toMatch(
      new RegExp(`\\nPRUNED: rotation pruned ${firstKept - 1} records \\(seq 1\\.\\.${firstKept - 1}, written 2\\d{3}-[^ ]+Z \\.\\. 2\\d{3}-[^ ]+Z, \\d+ files?\\)\\n$`),
    );
    const json = JSON.parse(runCli(['audit', 'verify', '--all', '--json', path]).stdout) as { pruned: { records: number; files: number } };
    expect(json.pruned.records).toBe(firstKept - 1);
    expect(json.pruned.files).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
