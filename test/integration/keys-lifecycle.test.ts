/**
 * Key lifecycle against a running server with a keys file: new keys work, revocation and
 * expiry refuse them without a restart, a rotated key works during its overlap and fails
 * after, a malformed reload keeps the last good keys, and per-key limits (tools, rate, IPs)
 * hold.
 */

import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKeyRecord, updateKeysFile, writeKeysFile, type KeyFileRecord } from '../../src/security/keys-file.js';
import { apiStatus, apiTools, initializeBody, mcpHeaders, send } from '../helpers/http.js';
import { connectClient, startWarden, type RunningWarden, useWarden } from '../helpers/warden.js';
import { manualClock } from '../helpers/clock.js';
import { within } from '../helpers/wait.js';
import { addKey, tempKeysPath } from '../helpers/keys.js';


/** The status of an authenticated request any key may make (`/api/status` needs an operator key). */
async function statusWith(warden: RunningWarden, key: string, headers: Record<string, string> = {}): Promise<number> {
  return (await apiTools(warden, key, headers)).status;
}


describe('keys file', () => {
  it('serves keys from the file and picks up new, revoked and expired keys without a restart', async () => {
    const path = tempKeysPath();
    const first = addKey(path, { name: 'first' });
    const running = await useWarden({ options: { keysFile: path } });
    expect(await statusWith(running, first.key)).toBe(200);

    const second = addKey(path, { name: 'second' });
    const addedAfter = await within(1000, async () => (await statusWith(running as RunningWarden, second.key)) === 200, 25);
    expect(addedAfter).toBeLessThan(1000);

    updateKeysFile(path, (file) => {
      const record = file.keys.find((candidate) => candidate.id === first.record.id) as KeyFileRecord;
      record.disabled = true;
    });
    await within(1000, async () => (await statusWith(running as RunningWarden, first.key)) === 401, 25);
    expect(await statusWith(running, second.key)).toBe(200);

    const reloads = running.logs().filter((line) => line['msg'] === 'keys file reloaded');
    expect(reloads.length).toBeGreaterThanOrEqual(2);
    expect(running.logText()).not.toContain(first.key);
  });

  it('refuses a key once it has expired', async () => {
    const clock = manualClock();
    const path = tempKeysPath();
    const shortLived = addKey(path, { name: 'short', expiresAt: clock.now() + 60_000 });
    const running = await useWarden({ clock: clock.now, options: { keysFile: path } });
    expect(await statusWith(running, shortLived.key)).toBe(200);
    clock.advance(59_999);
    expect(await statusWith(running, shortLived.key)).toBe(200);
    clock.advance(1);
    const response = await apiStatus(running, shortLived.key);
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect(running.logs().some((line) => line['failure'] === 'auth_invalid:expired')).toBe(true);
  });

  it('a rotated key works during its overlap and fails after; the new key works throughout', async () => {
    const clock = manualClock();
    const path = tempKeysPath();
    const old = addKey(path, { name: 'svc' });
    const running = await useWarden({ clock: clock.now, options: { keysFile: path } });
    const fresh = createKeyRecord({ name: 'svc', rotatedFrom: old.record.id });
    updateKeysFile(path, (file) => {
      (file.keys.find((record) => record.id === old.record.id) as KeyFileRecord).expires = new Date(clock.now() + 86_400_000).toISOString();
      file.keys.push(fresh.record);
    });
    await within(1000, async () => (await statusWith(running as RunningWarden, fresh.key)) === 200, 25);
    expect(await statusWith(running, old.key)).toBe(200);
    clock.advance(86_399_999);
    expect(await statusWith(running, old.key)).toBe(200);
    clock.advance(1);
    expect(await statusWith(running, old.key)).toBe(401);
    expect(await statusWith(running, fresh.key)).toBe(200);
  });

  it('a malformed file on reload keeps the last good keys and logs an error; SIGHUP reloads too', async () => {
    const path = tempKeysPath();
    const good = addKey(path, { name: 'good' });
    const running = await useWarden({ options: { keysFile: path } });
    writeFileSync(path, '{ "version": 1, "keys": [ broken');
    await within(1000, async () => running.logs().some((line) => line['msg'] === 'keys file reload failed; keeping the previous keys'), 25);
    expect(await statusWith(running, good.key)).toBe(200);

    writeKeysFile(path, { version: 1, keys: [] });
    // Not waiting for the watcher: SIGHUP makes the reload happen now.
    process.kill(process.pid, 'SIGHUP');
    await within(1000, async () => (await statusWith(running as RunningWarden, good.key)) === 401, 25);
  });

  it('notices a Kubernetes-style update (a ..data symlink swapped) within a second', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-k8s-'));
    const key = createKeyRecord({ name: 'mounted' });
    mkdirSync(join(dir, '..v1'));
    writeKeysFile(join(dir, '..v1', 'keys.json'), { version: 1, keys: [key.record] });
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync('..data/keys.json', join(dir, 'keys.json'));
    const running = await useWarden({ options: { keysFile: join(dir, 'keys.json') } });
    expect(await statusWith(running, key.key)).toBe(200);
    mkdirSync(join(dir, '..v2'));
    writeKeysFile(join(dir, '..v2', 'keys.json'), { version: 1, keys: [{ ...key.record, disabled: true }] });
    symlinkSync('..v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    const elapsed = await within(1500, async () => (await statusWith(running as RunningWarden, key.key)) === 401, 25);
    expect(elapsed).toBeLessThan(1000);
  });

  it('a malformed file at start is a configuration error', async () => {
    const path = tempKeysPath();
    writeFileSync(path, '{"version": 2}');
    await expect(startWarden({ options: { keysFile: path } })).rejects.toThrow(/keys\.json: version/);
  });
});

describe('per-key limits', () => {
  it('a tool-limited key sees and calls only its tools; other calls → 403 insufficient_scope', async () => {
    const path = tempKeysPath();
    const limited = addKey(path, { name: 'calc-only', tools: ['calculate'] });
    const running = await useWarden({ options: { keysFile: path } });

    const { client } = await connectClient(running, limited.key);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['calculate']);
    expect((await client.callTool({ name: 'calculate', arguments: { expression: '2+3' } })).content).toEqual([{ type: 'text', text: '5' }]);
    await expect(client.callTool({ name: 'system_info', arguments: {} })).rejects.toMatchObject({ code: 403 });
    await client.close();

    const tools = await apiTools(running, limited.key);
    expect(tools.json<{ tools: Array<{ name: string }> }>().tools.map((tool) => tool.name)).toEqual(['calculate']);

    const init = await send(running.mcpUrl, { method: 'POST', headers: mcpHeaders(limited.key), body: initializeBody() });
    const sessionId = init.headers['mcp-session-id'] as string;
    const denied = await send(running.mcpUrl, {
      method: 'POST',
      headers: mcpHeaders(limited.key, { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }),
    });
    expect(denied.status).toBe(403);
    expect(denied.json()).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: 'Forbidden: insufficient scope' }, id: null });
    expect(denied.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);

    const status = (await apiStatus(running, running.key)).json<Record<string, unknown>>();
    expect(status['scopeDenials']).toBe(2);
    expect(running.logs().some((line) => line['msg'] === 'tool call outside the caller\u2019s scope refused' && line['tool'] === 'echo')).toBe(true);
  });

  it('a key with its own rate limit gets 429 naming the per-key limit, while other keys go on', async () => {
    const path = tempKeysPath();
    const slow = addKey(path, { name: 'slow', rateLimit: 3 });
    const running = await useWarden({ options: { keysFile: path, rateLimit: 1000 } });
    for (let index = 0; index < 3; index++) expect(await statusWith(running, slow.key)).toBe(200);
    const limited = await apiTools(running, slow.key);
    expect(limited.status).toBe(429);
    expect(limited.json()).toEqual({ error: 'key_rate_limited', message: 'Too Many Requests: per-key limit' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.headers['ratelimit-policy']).toMatch(/^3;w=60;comment="per key"$/);
    expect(await statusWith(running, running.key)).toBe(200);
  });

  it('a key bound to CIDRs is refused from other addresses with 403', async () => {
    const path = tempKeysPath();
    const office = addKey(path, { name: 'office', allowIps: ['198.51.100.0/24', '2001:db8::/32'] });
    const running = await useWarden({ options: { keysFile: path, trustProxy: { kind: 'hops', hops: 1 } } });
    expect(await statusWith(running, office.key, { 'x-forwarded-for': '198.51.100.20' })).toBe(200);
    expect(await statusWith(running, office.key, { 'x-forwarded-for': '2001:db8:5::1' })).toBe(200);
    const outside = await apiTools(running, office.key, { 'x-forwarded-for': '203.0.113.9' });
    expect(outside.status).toBe(403);
    expect(outside.json()).toEqual({ error: 'ip_forbidden', message: 'Forbidden: address not allowed' });
  });
});
