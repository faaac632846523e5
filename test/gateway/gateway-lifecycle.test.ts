/**
 * The gateway's children over their lifetime: none survives a stop (sessions, sessionless
 * principals and a shared pool), a principal's sessionless connection ends once idle (manual
 * clock) or when its credential is revoked, `--stateless` 2025 requests are served; and the
 * CLI one-liner (`mcp-warden --env-keys -- <command>`) and `gateway pin` as users run them.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src/gateway/config.js';
import { updateKeysFile } from '../../src/security/keys-file.js';
import { runCli, serveCli } from '../helpers/cli.js';
import { manualClock } from '../helpers/clock.js';
import { fixtureServer, legacyClient, modernClient, npmServer, text } from '../helpers/gateway.js';
import { mcpHeaders, send } from '../helpers/http.js';
import { addKey, tempKeysPath } from '../helpers/keys.js';
import { alive, serverBin } from '../helpers/upstreams.js';
import { until } from '../helpers/wait.js';
import { useWarden } from '../helpers/warden.js';

const gone = (pid: number): boolean => !alive(pid) && !alive(-pid);

describe('no child survives', () => {
  it('stopping the server ends every child: sessions, principals and a shared pool', async () => {
    const warden = await useWarden({
      gateway: parseGatewayConfig({ mcpServers: { fixture: fixtureServer(), pool: fixtureServer('pooled', { isolation: 'shared', poolSize: 2 }), everything: npmServer('server-everything', ['stdio']) } }, {}),
    });
    const a = await legacyClient(warden.mcpUrl, warden.key);
    const b = await legacyClient(warden.mcpUrl, warden.key);
    const modern = await modernClient(warden.mcpUrl, warden.key);
    const pids = new Set<number>();
    for (const client of [a.client, b.client]) {
      pids.add(Number(text(await client.callTool({ name: 'fixture__whoami', arguments: {} }))));
      for (let i = 0; i < 2; i++) pids.add(Number(text(await client.callTool({ name: 'pool__whoami', arguments: {} }))));
    }
    pids.add(Number(text(await modern.callTool({ name: 'fixture__whoami', arguments: {} }))));
    await modern.callTool({ name: 'everything__echo', arguments: { message: 'x' } });
    // Two sessions and one principal on fixture, two pooled children shared by all.
    expect(pids.size).toBe(5);
    const all = warden.server.gateway?.pids() ?? [];
    expect(all.length).toBe(6);
    for (const pid of all) expect(alive(pid)).toBe(true);
    await warden.stop();
    for (const pid of all) expect(gone(pid)).toBe(true);
  });
});

describe('sessionless connections', () => {
  it('a principal\u2019s connection serves its 2026-07-28 requests and ends once idle for the session TTL', async () => {
    const clock = manualClock();
    const warden = await useWarden({ clock: clock.now, gateway: parseGatewayConfig({ mcpServers: { fixture: fixtureServer() } }, {}), options: { sessionTtl: 60 } });
    const gateway = warden.server.gateway;
    const client = await modernClient(warden.mcpUrl, warden.key);
    const pid = Number(text(await client.callTool({ name: 'fixture__whoami', arguments: {} })));
    expect(Number(text(await client.callTool({ name: 'fixture__whoami', arguments: {} })))).toBe(pid);
    clock.advance(59_000);
    await gateway?.sweep();
    expect(alive(pid)).toBe(true);
    clock.advance(2000);
    await gateway?.sweep();
    expect(gone(pid)).toBe(true);
    const next = Number(text(await client.callTool({ name: 'fixture__whoami', arguments: {} })));
    expect(next).not.toBe(pid);
  });

  it('a principal\u2019s connection ends when its key is revoked', async () => {
    const keysFile = tempKeysPath();
    const { key, record } = addKey(keysFile, { name: 'revocable' });
    const warden = await useWarden({ gateway: parseGatewayConfig({ mcpServers: { fixture: fixtureServer() } }, {}), options: { keysFile } });
    const client = await modernClient(warden.mcpUrl, key);
    const pid = Number(text(await client.callTool({ name: 'fixture__whoami', arguments: {} })));
    updateKeysFile(keysFile, (file) => {
      const found = file.keys.find((entry) => entry.id === record.id);
      if (found !== undefined) found.disabled = true;
    });
    warden.server.keySource.reload();
    expect(await until(() => gone(pid), 5000)).toBe(true);
  });

  it('serves --stateless 2025 requests through the principal\u2019s connection', async () => {
    const warden = await useWarden({ gateway: parseGatewayConfig({ mcpServers: { everything: npmServer('server-everything', ['stdio']) } }, {}), options: { stateless: true } });
    const call = (id: number) =>
      send(warden.mcpUrl, {
        method: 'POST',
        headers: mcpHeaders(warden.key, { 'mcp-protocol-version': '2025-11-25' }),
        body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: `s${id}` } } }),
      });
    for (const id of [1, 2]) {
      const response = await call(id);
      expect(response.status).toBe(200);
      expect(response.text).toContain(`Echo: s${id}`);
    }
    expect(warden.server.gateway?.pids()).toHaveLength(1);
  });
});

describe('the audit trail with secrets: off', () => {
  it('answers the result as the upstream sent it, but records arguments and result redacted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-audit-off-'));
    try {
      const auditLog = join(dir, 'audit.jsonl');
      const warden = await useWarden({ gateway: parseGatewayConfig({ mcpServers: { everything: npmServer('server-everything', ['stdio']) } }, {}), options: { auditLog, auditArguments: 'full' } });
      const { client } = await legacyClient(warden.mcpUrl, warden.key);
      const secret = 'ghp_0123456789abcdefghijABCDEFGHIJ012345';
      expect(text(await client.callTool({ name: 'everything__echo', arguments: { message: secret } }))).toBe(`Echo: ${secret}`);
      expect(await until(() => readFileSync(auditLog, 'utf8').includes('"event":"tool_call"'), 3000)).toBe(true);
      const trail = readFileSync(auditLog, 'utf8');
      expect(trail).not.toContain(secret);
      const call = trail
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((record) => record['event'] === 'tool_call');
      expect(call?.['arguments']).toEqual({ message: '[REDACTED:github-token]' });
      expect(call?.['result']).toEqual({ content: [{ type: 'text', text: 'Echo: [REDACTED:github-token]' }] });
      expect(trail).toContain('"event":"secret_detected"');
      await warden.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the command line', () => {
  const KEY = 'gateway-cli-key-0123456789abcdefghijklmn';

  it('mcp-warden --env-keys -- <command> serves one stdio server to the v2 client pinned to 2026-07-28', async () => {
    const served = await serveCli(['--env-keys', '--', process.execPath, serverBin('server-everything'), 'stdio'], { MCP_API_KEYS: KEY });
    try {
      const client = await modernClient(`${served.url}/mcp`, KEY);
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).toContain('server-everything__echo');
      expect(text(await client.callTool({ name: 'server-everything__echo', arguments: { message: 'one-liner' } }))).toBe('Echo: one-liner');
      const alone = await modernClient(`${served.url}/mcp/server-everything`, KEY);
      expect(text(await alone.callTool({ name: 'echo', arguments: { message: 'alone' } }))).toBe('Echo: alone');
      const unauthorized = await send(`${served.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(unauthorized.status).toBe(401);
      await client.close();
      await alone.close();
    } finally {
      expect(await served.stop()).toBe(0);
    }
  });

  it('refuses a command without "--" and an --upstream-name without a command (exit 2)', () => {
    const typo = runCli(['serv']);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('give it after "--"');
    const name = runCli(['--upstream-name', 'x']);
    expect(name.status).toBe(2);
    expect(name.stderr).toContain('--upstream-name names the upstream command given after "--"');
  });

  it('mcp-warden gateway pin lists a config\u2019s upstreams and writes the lock', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-cli-pin-'));
    try {
      const config = join(dir, 'mcp-warden.json');
      writeFileSync(config, JSON.stringify({ mcpServers: { fixture: fixtureServer() } }), { mode: 0o600 });
      const result = runCli(['gateway', 'pin', '--config', config]);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('fixture: 5 added, 0 changed, 0 removed, 0 unchanged');
      expect(result.stdout).toContain(`wrote ${join(dir, 'mcp-warden.lock.json')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

