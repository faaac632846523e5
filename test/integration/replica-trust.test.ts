/**
 * Redis is a neighbour, not an authority: two replica processes (the built CLI) on one real
 * Redis, attacked by a plain Redis client that can PUBLISH and write keys but does not hold the
 * shared secret. A malformed bus message must not crash either replica, a forged restriction
 * must not revive an expired key, and a forged ban must not lock anyone out; every rejection is
 * counted in the metrics. (Forged records at rest: test/store/sealed-records.test.ts.)
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyRecord, updateKeysFile } from '../../src/security/keys-file.js';
import { runCli, serveCli, type ServedCli } from '../helpers/cli.js';
import { apiStatus, send } from '../helpers/http.js';
import { SHARED_SECRET_ENV, useRedis } from '../helpers/redis.js';
import { sleep } from '../helpers/wait.js';

const KEY = 'trust-key-0123456789abcdefghijklmnopq';

const status = (target: ServedCli, key = KEY, headers: Record<string, string> = {}) =>
  apiStatus(target, key, headers);

/** The value of one counter series in a replica's /metrics (0 when absent). */
async function counter(target: ServedCli, name: string, label: string): Promise<number> {
  const response = await send(`${target.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } });
  expect(response.status).toBe(200);
  const line = response.text.split('\n').find((entry) => entry.startsWith(`${name}{${label}}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('a Redis writer without the shared secret, against two replica processes', () => {
  const redis = useRedis();
  /** A Redis writer without the shared secret. */
  let attacker: Redis;
  let a: ServedCli;
  let b: ServedCli;
  const dir = mkdtempSync(join(tmpdir(), 'warden-trust-'));
  const keysFile = join(dir, 'keys.json');
  const expired = createKeyRecord({ name: 'expired', expiresAt: Date.now() - 60_000 });
  const replica = (): Promise<ServedCli> => serveCli(['--api-key', KEY, '--redis-url', redis.server.url, '--keys-file', keysFile, '--trust-proxy', '1'], SHARED_SECRET_ENV);

  beforeAll(async () => {
    attacker = redis.connect();
    updateKeysFile(keysFile, (file) => {
      file.keys.push(expired.record);
    });
    a = await replica();
    b = await replica();
  });

  afterAll(async () => {
    // Stopped even when a test failed: no replica may outlive the suite (useRedis stops Redis after).
    await Promise.allSettled([a?.stop(), b?.stop()]);
  });

  it('refuses to start with --redis-url and no shared secret (exit 2, says what to set)', async () => {
    const result = runCli(['--api-key', KEY, '--port', '0', '--redis-url', redis.server.url]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--redis-url needs a shared secret.*MCP_SHARED_SECRET/);
    // A secret file that is too short is refused the same way.
    const short = join(dir, 'short-secret');
    writeFileSync(short, 'too-short\n', { mode: 0o600 });
    const shortResult = runCli(['--api-key', KEY, '--port', '0', '--redis-url', redis.server.url, '--shared-secret-file', short]);
    expect(shortResult.status).toBe(2);
    expect(shortResult.stderr).toContain('at least 32 characters');
  });

  it('one crafted PUBLISH does not take either replica down; the drop is counted', async () => {
    const before = [await counter(a, 'mcp_warden_bus_dropped_total', 'reason="malformed"'), await counter(b, 'mcp_warden_bus_dropped_total', 'reason="malformed"')];
    const receivers = await attacker.publish('mcpw:events', '{"type":"keys_restricted","origin":"x","restrictions":null}');
    expect(receivers).toBe(2);
    await sleep(300);
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();
    expect((await status(a)).status).toBe(200);
    expect((await status(b)).status).toBe(200);
    expect(await counter(a, 'mcp_warden_bus_dropped_total', 'reason="malformed"')).toBe((before[0] as number) + 1);
    expect(await counter(b, 'mcp_warden_bus_dropped_total', 'reason="malformed"')).toBe((before[1] as number) + 1);
  });

  it('a forged restriction with a malformed expiry does not revive an expired key, on the bus or at rest', async () => {
    expect((await status(a, expired.key)).status).toBe(401);
    const forged = [{ id: expired.record.id, disabled: false, expiresAt: 'x' }];
    await attacker.publish('mcpw:events', JSON.stringify({ type: 'keys_restricted', origin: 'x', restrictions: forged }));
    await attacker.hset('mcpw:keys:restrictions', expired.record.id, JSON.stringify(forged[0]));
    await sleep(300);
    expect((await status(a, expired.key)).status).toBe(401);
    expect((await status(b, expired.key)).status).toBe(401);
    expect(await counter(a, 'mcp_warden_bus_dropped_total', 'reason="malformed"')).toBeGreaterThanOrEqual(2);
    expect((await status(a)).status).toBe(200);
    // Records at rest (read by a replica at start) are covered in test/store/sealed-records.test.ts.
  });

  it('a forged ban (on the bus or at rest) locks nobody out', async () => {
    const victim = { 'x-forwarded-for': '198.51.100.99' };
    const until = Date.now() + 3_600_000;
    await attacker.publish('mcpw:events', JSON.stringify({ type: 'ban', origin: 'x', client: '198.51.100.99', until }));
    await attacker.set('mcpw:ban:198.51.100.99', String(until), 'PX', 3_600_000);
    await sleep(300);
    expect((await status(a, KEY, victim)).status).toBe(200);
    expect((await status(b, KEY, victim)).status).toBe(200);
    expect((await status(a, KEY, { 'x-forwarded-for': '198.51.100.98' })).status).toBe(200);
  });
});
