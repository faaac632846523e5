/**
 * Tool pinning and the `block` secret policy through a running gateway: `gateway pin` (with the
 * real lister) records the fixture's tools while its description is v1; the gateway then
 * serves the fixture with description v2, so that tool is hidden and its calls refused, with an
 * audit record, a warn line and a metric; a new tool is held; a re-pin is picked up by the lock
 * file watch; an invalid lock keeps the last good pins, an untrusted one stops the start. A
 * result holding a secret is withheld.
 */

import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { runGatewayPin } from '../../src/cli/gateway.js';
import { parseGatewayConfig } from '../../src/gateway/config.js';
import { upstreamToolLister } from '../../src/gateway/lister.js';
import { createServer } from '../../src/server.js';
import { fixtureServer, legacyClient, npmServer, rpcError, text } from '../helpers/gateway.js';
import { getWithKey } from '../helpers/http.js';
import { until } from '../helpers/wait.js';
import { useSharedWarden } from '../helpers/warden.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-pins-'));
const configPath = join(dir, 'mcp-warden.json');
const lockPath = join(dir, 'mcp-warden.lock.json');
const auditLog = join(dir, 'audit.jsonl');
const raw = {
  gateway: {
    newTools: 'hold',
    secrets: 'block',
    mcpServers: { fixture: fixtureServer('${FIXTURE_DESC}'), everything: npmServer('server-everything', ['stdio']) },
  },
};
writeFileSync(configPath, JSON.stringify(raw), { mode: 0o600 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `mcp-warden gateway pin --config <file>` with the real lister, the fixture described as `description`. */
async function pin(description: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const env = { PATH: process.env['PATH'], FIXTURE_DESC: description };
  const code = await runGatewayPin(
    { config: configPath },
    {
      list: upstreamToolLister({ env, logger: pino({ level: 'silent' }) }),
      io: { stdout: { write: (chunk: string) => (stdout += chunk) }, stderr: { write: (chunk: string) => (stderr += chunk) }, env: {} },
    },
  );
  return { code, stdout, stderr };
}

const pinned = await pin('v1');

const warden = useSharedWarden(() => ({
  gateway: parseGatewayConfig(raw, { FIXTURE_DESC: 'v2' }, { configPath }),
  options: { auditLog, monitoring: true, rateLimit: 10_000 },
}));

const HELD = 'Forbidden: tool held until an operator pins its current definition (upstream "fixture")';

describe('tool pinning', () => {
  it('gateway pin lists every upstream through the upstream layer and writes the lock beside the config', () => {
    expect(pinned.code).toBe(0);
    expect(pinned.stdout).toMatch(/^fixture: 5 added, 0 changed, 0 removed, 0 unchanged$/m);
    expect(pinned.stdout).toMatch(/^everything: \d+ added/m);
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).upstreams.fixture['describe-me'].digest).toMatch(/^sha256:/);
  });

  it('hides a tool whose definition changed and refuses its calls, with an audit record, a warn line and a metric', async () => {
    const { client } = await legacyClient(warden.mcpUrl, warden.key);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain('fixture__whoami');
    expect(names).toContain('everything__echo');
    expect(names).not.toContain('fixture__describe-me');

    const refused = await rpcError(client.callTool({ name: 'fixture__describe-me', arguments: {} }));
    expect(refused.code).toBe(-32000);
    expect(refused.message).toContain(HELD);
    expect(text(await client.callTool({ name: 'fixture__whoami', arguments: {} }))).toMatch(/^\d+$/);

    expect(await until(() => readFileSync(auditLog, 'utf8').includes('"event":"tool_pin"'), 3000)).toBe(true);
    const record = readFileSync(auditLog, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((entry) => entry['event'] === 'tool_pin');
    expect(record).toMatchObject({ upstream: 'fixture', tool: 'describe-me', verdict: 'changed' });
    expect(record?.['pinnedDigest']).not.toBe(record?.['digest']);
    expect(warden.logs().some((line) => line['level'] === 40 && line['tool'] === 'describe-me' && line['verdict'] === 'changed')).toBe(true);
    const metrics = await getWithKey(warden, '/metrics', warden.key);
    expect(metrics.text).toContain('mcp_warden_gateway_pin_transitions_total{upstream="fixture",verdict="changed"} 1');
  });

  it('holds a tool the lock does not name (newTools: hold)', async () => {
    const { client } = await legacyClient(warden.mcpUrl, warden.key);
    expect(text(await client.callTool({ name: 'fixture__add-tool', arguments: {} }))).toBe('added-1');
    expect((await client.listTools()).tools.map((tool) => tool.name)).not.toContain('fixture__added-1');
    expect((await rpcError(client.callTool({ name: 'fixture__added-1', arguments: {} }))).message).toContain(HELD);
  });

  it('takes a re-pin without a restart (the lock file is watched), and keeps the last good pins when the lock turns invalid', async () => {
    const repinned = await pin('v2');
    expect(repinned.code).toBe(0);
    expect(repinned.stdout).toMatch(/^fixture: 0 added, 1 changed/m);
    const { client } = await legacyClient(warden.mcpUrl, warden.key);
    expect(await until(async () => (await client.listTools()).tools.some((tool) => tool.name === 'fixture__describe-me'), 5000)).toBe(true);
    expect(text(await client.callTool({ name: 'fixture__describe-me', arguments: {} }))).toBe('described');

    writeFileSync(lockPath, '{ not json', { mode: 0o600 });
    const reload = warden.server.gateway?.reloadPins();
    expect(reload).toMatchObject({ ok: false });
    expect(text(await client.callTool({ name: 'fixture__describe-me', arguments: {} }))).toBe('described');
  });

  it('refuses to start on a lock file others could change', async () => {
    const untrusted = join(dir, 'untrusted.lock.json');
    writeFileSync(untrusted, JSON.stringify({ version: 1, upstreams: {} }), { mode: 0o600 });
    chmodSync(untrusted, 0o666);
    const gateway = parseGatewayConfig({ gateway: { ...raw.gateway, pinLock: untrusted } }, { FIXTURE_DESC: 'v2' });
    await expect(createServer({ gateway, options: { apiKeys: ['k'.repeat(32)], port: 0 }, logger: pino({ level: 'silent' }) })).rejects.toMatchObject({
      code: 'WARDEN_ERR_CONFIG',
      message: expect.stringMatching(/untrusted\.lock\.json/),
    });
  });
});

describe('secrets: block', () => {
  it('withholds a result holding a secret with a clear error, audited, and serves afterwards', async () => {
    const { client } = await legacyClient(warden.mcpUrl, warden.key);
    const refused = await rpcError(client.callTool({ name: 'everything__echo', arguments: { message: 'AKIAIOSFODNN7EXAMPLE' } }));
    expect(refused.code).toBe(-32000);
    expect(refused.message).toContain('Bad Gateway: the upstream result held a secret and was withheld (upstream "everything")');
    expect(refused.message).not.toContain('AKIA');
    expect(await until(() => readFileSync(auditLog, 'utf8').includes('"action":"blocked"'), 3000)).toBe(true);
    expect(readFileSync(auditLog, 'utf8')).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(text(await client.callTool({ name: 'everything__echo', arguments: { message: 'clean' } }))).toBe('Echo: clean');
  });
});
