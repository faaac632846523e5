/**
 * Several replicas acting as one server through one real Redis: two server processes (the
 * built CLI) show that a limit of N holds across both in total, that a session created on one
 * continues on the other and is bound to its principal, that revocations and bans reach the
 * other replica within a second, and that killing Redis degrades but keeps serving, while
 * restarting it recovers. The `closed` policy answers 503 while Redis is down.
 */

import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyRecord, updateKeysFile, type KeyFileRecord } from '../../src/security/keys-file.js';
import { serveCli, type ServedCli } from '../helpers/cli.js';
import { apiStatus, initializeBody, mcpHeaders, send } from '../helpers/http.js';
import { SHARED_SECRET_ENV, startRedis, type TestRedis } from '../helpers/redis.js';
import { openSse } from '../helpers/sse.js';
import { within } from '../helpers/wait.js';
import { addKey } from '../helpers/keys.js';

const KEY = 'replica-key-0123456789abcdefghijklmn';
const OTHER = 'replica-other-0123456789abcdefghijk';

type Replica = ServedCli;

/**
 * Replicas with a 500 ms Redis call timeout: these tests are about what the replicas share, and
 * under a busy CI machine the 50 ms default turns a slow publish into a fallback (a dropped
 * message) often enough to make them flaky. The timeout's own behaviour is tested elsewhere.
 */
function replica(args: string[]): Promise<Replica> {
  return serveCli(['--api-key', KEY, '--api-key', OTHER, '--redis-timeout', '500', ...args], SHARED_SECRET_ENV);
}

const status = (target: Replica, key = KEY, headers: Record<string, string> = {}) =>
  apiStatus(target, key, headers);

describe('two replicas on one Redis', () => {
  let redis: TestRedis;
  let a: Replica;
  let b: Replica;
  const dir = mkdtempSync(join(tmpdir(), 'warden-replicas-'));
  const keysA = join(dir, 'keys-a.json');
  const keysB = join(dir, 'keys-b.json');
  let fileKey: { key: string; record: KeyFileRecord };

  beforeAll(async () => {
    redis = await startRedis();
    fileKey = addKey(keysA, { name: 'shared', operator: true });
    // Each replica reads its own copy: a revocation must travel through Redis, not the file.
    copyFileSync(keysA, keysB);
    const common = ['--redis-url', redis.url, '--rate-limit', '10', '--rate-window', '60', '--trust-proxy', '1', '--ban-threshold', '3', '--ban-seconds', '60'];
    a = await replica([...common, '--keys-file', keysA]);
    b = await replica([...common, '--keys-file', keysB]);
  });

  afterAll(async () => {
    // Stopped even when a test failed: no replica or Redis may outlive the suite.
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it('a limit of N holds across both replicas in total', async () => {
    const client = { 'x-forwarded-for': '198.51.100.10' };
    let admitted = 0;
    for (let index = 0; index < 20; index++) {
      const response = await status(index % 2 === 0 ? a : b, KEY, client);
      if (response.status === 200) admitted++;
      else expect(response.status).toBe(429);
    }
    expect(admitted).toBe(10);
    const other = await status(b, KEY, { 'x-forwarded-for': '198.51.100.11' });
    expect(other.status).toBe(200);
  });

  it('a session created on one replica continues on the other, bound to its principal', async () => {
    const ip = { 'x-forwarded-for': '198.51.100.20' };
    const init = await send(`${a.url}/mcp`, { method: 'POST', headers: mcpHeaders(KEY, ip), body: initializeBody(1, '2025-06-18') });
    expect(init.status).toBe(200);
    const sessionId = init.headers['mcp-session-id'] as string;
    const headers = mcpHeaders(KEY, { ...ip, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' });
    const call = await send(`${b.url}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'calculate', arguments: { expression: '6*7' } } }),
    });
    expect(call.status).toBe(200);
    expect(call.json()).toMatchObject({ id: 2, result: { content: [{ text: '42' }] } });
    // Version headers are checked on B as on A: a supported one is accepted, an unsupported one is 400.
    expect((await send(`${b.url}/mcp`, { method: 'POST', headers: { ...headers, 'mcp-protocol-version': '2025-11-25' }, body: '{"jsonrpc":"2.0","id":3,"method":"ping"}' })).status).toBe(200);
    expect((await send(`${b.url}/mcp`, { method: 'POST', headers: { ...headers, 'mcp-protocol-version': '2099-01-01' }, body: '{"jsonrpc":"2.0","id":3,"method":"ping"}' })).status).toBe(400);
    // Another principal presenting the id gets 404 on either replica.
    const foreign = mcpHeaders(OTHER, { ...ip, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' });
    expect((await send(`${b.url}/mcp`, { method: 'POST', headers: foreign, body: '{"jsonrpc":"2.0","id":4,"method":"ping"}' })).status).toBe(404);
    // Ending it on B ends it on A too.
    expect((await send(`${b.url}/mcp`, { method: 'DELETE', headers })).status).toBe(204);
    await within(1000, async () => (await send(`${a.url}/mcp`, { method: 'POST', headers, body: '{"jsonrpc":"2.0","id":5,"method":"ping"}' })).status === 404, 25);
  });

  it('a key revoked in one replica\u2019s keys file is refused by the other within a second', async () => {
    const ip = { 'x-forwarded-for': '198.51.100.30' };
    expect((await status(b, fileKey.key, ip)).status).toBe(200);
    updateKeysFile(keysA, (file) => {
      (file.keys.find((record) => record.id === fileKey.record.id) as KeyFileRecord).disabled = true;
    });
    const elapsed = await within(1500, async () => (await status(b, fileKey.key, ip)).status === 401, 25);
    expect(elapsed).toBeLessThan(1000);
  });

  it('a key revoked in one replica’s keys file ends its GET stream on the other within a second', async () => {
    const ip = { 'x-forwarded-for': '198.51.100.31' };
    const streamed = createKeyRecord({ name: 'streamed', operator: true });
    for (const path of [keysA, keysB]) {
      updateKeysFile(path, (file) => {
        file.keys.push(streamed.record);
      });
    }
    await within(1500, async () => (await status(b, streamed.key, ip)).status === 200 && (await status(a, streamed.key, ip)).status === 200, 25);
    const init = await send(`${b.url}/mcp`, { method: 'POST', headers: mcpHeaders(streamed.key, ip), body: initializeBody() });
    expect(init.status).toBe(200);
    const headers = mcpHeaders(streamed.key, { ...ip, 'mcp-session-id': init.headers['mcp-session-id'] as string, 'mcp-protocol-version': '2025-11-25' });
    const stream = await openSse(`${b.url}/mcp`, { headers: { ...headers, accept: 'text/event-stream' } });
    try {
      expect(stream.status).toBe(200);
      const revokedAt = Date.now();
      // Revoked in A's file only: B learns it through Redis and closes its own session.
      updateKeysFile(keysA, (file) => {
        (file.keys.find((record) => record.id === streamed.record.id) as KeyFileRecord).disabled = true;
      });
      await stream.ended(1500);
      expect(Date.now() - revokedAt).toBeLessThan(1000);
      const refused = await send(`${b.url}/mcp`, { method: 'POST', headers, body: '{"jsonrpc":"2.0","id":2,"method":"ping"}' });
      expect(refused.status).toBe(401);
      expect((await status(b, KEY, ip)).status).toBe(200);
    } finally {
      stream.close();
    }
  });

  it('a ban decided on one replica reaches the other within a second', async () => {
    const attacker = { 'x-forwarded-for': '203.0.113.77' };
    for (let index = 0; index < 4; index++) await status(a, `wrong-${index}-0123456789abcdef`, attacker);
    expect((await status(a, KEY, attacker)).status).toBe(403);
    const elapsed = await within(1500, async () => (await status(b, KEY, attacker)).status === 403, 25);
    expect(elapsed).toBeLessThan(1000);
  });

  it('killing Redis degrades but keeps serving; restarting it recovers', async () => {
    const ip = { 'x-forwarded-for': '198.51.100.40' };
    await redis.kill();
    await within(3000, async () => (await send(`${a.url}/health`)).text.includes('degraded'), 25);
    const health = (await send(`${b.url}/health`)).json<{ status: string; reason: string }>();
    expect(health.status).toBe('degraded');
    expect(health.reason).toMatch(/redis/);
    const started = Date.now();
    expect((await status(a, KEY, ip)).status).toBe(200);
    expect((await status(b, KEY, ip)).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    // A new session works on the replica that created it.
    expect((await send(`${a.url}/mcp`, { method: 'POST', headers: mcpHeaders(KEY, ip), body: initializeBody() })).status).toBe(200);

    await redis.restart();
    await within(5000, async () => (await send(`${a.url}/health`)).json<{ status: string }>().status === 'ok', 25);
    await within(5000, async () => (await send(`${b.url}/health`)).json<{ status: string }>().status === 'ok', 25);
    // Shared limiting is back: a fresh client gets N in total across both.
    const fresh = { 'x-forwarded-for': '198.51.100.41' };
    let admitted = 0;
    for (let index = 0; index < 14; index++) if ((await status(index % 2 === 0 ? a : b, KEY, fresh)).status === 200) admitted++;
    expect(admitted).toBe(10);
    expect(a.stdout()).toContain('redis unavailable');
    expect(a.stdout()).toContain('redis connected: shared state on');
  });
});

describe('the closed failure policy', () => {
  it('answers 503 on limited routes while Redis is down and recovers with it', async () => {
    const redis = await startRedis();
    const server = await replica(['--redis-url', redis.url, '--redis-failure', 'closed']);
    try {
      expect((await status(server)).status).toBe(200);
      await redis.kill();
      await within(3000, async () => (await send(`${server.url}/health`)).text.includes('degraded'), 25);
      const refused = await status(server);
      expect(refused.status).toBe(503);
      expect(refused.json()).toEqual({ error: 'shared_state_unavailable', message: 'Service Unavailable: shared state unreachable' });
      expect((await send(`${server.url}/health`)).status).toBe(200);
      await redis.restart();
      await within(5000, async () => (await status(server)).status === 200, 25);
    } finally {
      await server.stop();
      await redis.stop();
    }
  });
});
