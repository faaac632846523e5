/**
 * How replicas behave while their Redis fails, on a real Redis with two or three replica
 * processes (the built CLI): a replica started after a revocation or a ban applies it before
 * it serves (and `/ready` says 503 until then); health and `mcp_warden_redis_up` tell the truth
 * while Redis sleeps (DEBUG SLEEP) or is out of memory; the cluster admits about N per window
 * while Redis is down, a timed-out script is not admitted twice, an emptied Redis is re-seeded,
 * and sessions created during an outage are shared once Redis is back.
 */

import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';

vi.setConfig({ testTimeout: 30_000 });
import { updateKeysFile, type KeyFileRecord } from '../../src/security/keys-file.js';
import { serveCli, type ServedCli } from '../helpers/cli.js';
import { apiStatus, initializeBody, mcpHeaders, send } from '../helpers/http.js';
import { SHARED_SECRET_ENV, startRedis, type TestRedis } from '../helpers/redis.js';
import { sleep, within } from '../helpers/wait.js';
import { addKey } from '../helpers/keys.js';

const KEY = 'resil-key-0123456789abcdefghijklmnop';
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

function replica(redis: TestRedis, args: string[] = []): Promise<ServedCli> {
  return serveCli(['--api-key', KEY, '--redis-url', redis.url, '--trust-proxy', '1', '--metrics-token', METRICS_TOKEN, ...args], SHARED_SECRET_ENV);
}

const status = (target: ServedCli, ip: string, key = KEY) => apiStatus(target, key, { 'x-forwarded-for': ip });
const health = async (target: ServedCli) => (await send(`${target.url}/health`)).json<{ status: string; reason?: string }>();

async function redisUp(target: ServedCli): Promise<string | undefined> {
  const text = (await send(`${target.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text;
  return /^mcp_warden_redis_up (\d)/m.exec(text)?.[1];
}

let probes = 0;
/** Live replicas as this one knows them (from the heartbeats); each probe from its own address, past the limit. */
async function liveReplicas(target: ServedCli): Promise<number> {
  const ip = `192.0.2.${1 + (probes++ % 250)}`;
  const body = (await apiStatus(target, KEY, { 'x-forwarded-for': ip })).json<{ security: { sharedState: { liveReplicas: number } } }>();
  return body.security.sharedState.liveReplicas;
}

/** Runs `body` with Redis and the replicas it starts, stopping all of them whatever happens. */
async function withRedis(body: (redis: TestRedis, started: ServedCli[]) => Promise<void>): Promise<void> {
  const redis = await startRedis();
  const started: ServedCli[] = [];
  try {
    await body(redis, started);
  } finally {
    await Promise.allSettled(started.map((server) => server.stop()));
    await redis.stop();
  }
}

describe('start-up sync', () => {
  it('a replica started while Redis is frozen, after a revocation and a ban, is not ready (503) until synced, then refuses both', async () => {
    await withRedis(async (redis, started) => {
      const dir = mkdtempSync(join(tmpdir(), 'warden-resil-'));
      const keysA = join(dir, 'a.json');
      const keysB = join(dir, 'b.json');
      const fileKey = addKey(keysA, { name: 'revoked-later' });
      // B's copy stays stale (a ConfigMap not yet updated): the revocation must come from Redis.
      copyFileSync(keysA, keysB);
      const a = await replica(redis, ['--keys-file', keysA, '--ban-threshold', '3', '--ban-seconds', '600']);
      started.push(a);
      updateKeysFile(keysA, (file) => {
        (file.keys.find((record) => record.id === fileKey.record.id) as KeyFileRecord).disabled = true;
      });
      await within(3000, async () => (await status(a, '198.51.100.1', fileKey.key)).status === 401, 50);
      const attacker = '203.0.113.9';
      for (let index = 0; index < 4; index++) await status(a, attacker, `wrong-${index}-0123456789abcdef`);
      expect((await status(a, attacker)).status).toBe(403);
      await sleep(200);

      redis.pause();
      const b = await replica(redis, ['--keys-file', keysB, '--ban-threshold', '3', '--ban-seconds', '600']);
      started.push(b);
      const notReady = await send(`${b.url}/ready`);
      expect(notReady.status).toBe(503);
      expect(notReady.json()).toEqual({ status: 'starting', reason: 'shared_state_sync' });
      // Not ready means not serving: the stale keys file must not let the revoked key in.
      const early = await status(b, '198.51.100.2', fileKey.key);
      expect(early.status).toBe(503);
      expect(early.headers['retry-after']).toBe('1');
      const mcp = await send(`${b.url}/mcp`, { method: 'POST', headers: mcpHeaders(fileKey.key), body: initializeBody() });
      expect(mcp.status).toBe(503);
      expect(mcp.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
      // Liveness stays 200: restarting the pod would not bring Redis back.
      expect((await send(`${b.url}/health`)).status).toBe(200);

      redis.resume();
      await within(5000, async () => (await send(`${b.url}/ready`)).status === 200, 50);
      expect((await send(`${b.url}/ready`)).json()).toEqual({ status: 'ready' });
      expect((await status(b, '198.51.100.2', fileKey.key)).status).toBe(401);
      expect((await status(b, attacker)).status).toBe(403);
      // Still serving everyone else.
      expect((await status(b, '198.51.100.3')).status).toBe(200);
      expect(b.stdout()).toContain('shared state synced from redis');
    });
  });

  it('with open, a replica whose Redis never answers serves after the sync timeout, loudly', async () => {
    await withRedis(async (redis, started) => {
      redis.pause();
      const server = await replica(redis, ['--redis-sync-timeout', '1']);
      started.push(server);
      await within(3000, async () => (await send(`${server.url}/ready`)).status === 200, 50);
      expect((await send(`${server.url}/ready`)).json()).toEqual({ status: 'ready', synced: false });
      expect((await status(server, '198.51.100.4')).status).toBe(200);
      expect(server.stdout()).toContain('SERVING WITHOUT SHARED STATE');
      redis.resume();
      await within(5000, async () => (await send(`${server.url}/ready`)).json<{ synced?: boolean }>().synced === undefined, 50);
    });
  });
});

describe('truthful health', () => {
  it('says degraded (redis_timeouts) and redis_up 0 while Redis sleeps, though the socket is up', async () => {
    await withRedis(async (redis, started) => {
      const server = await replica(redis, ['--redis-timeout', '50']);
      started.push(server);
      expect(await health(server)).toEqual({ status: 'ok' });
      expect(await redisUp(server)).toBe('1');
      const control = new Redis(redis.url, { lazyConnect: true });
      try {
        await control.connect();
        const sleeping = control.call('DEBUG', 'SLEEP', '3');
        for (let index = 0; index < 4; index++) expect((await status(server, `198.51.100.${20 + index}`)).status).toBe(200);
        const report = await health(server);
        expect(report.status).toBe('degraded');
        expect(report.reason).toBe('redis_timeouts');
        expect((await send(`${server.url}/health`)).status).toBe(200);
        expect(await redisUp(server)).toBe('0');
        await sleeping;
      } finally {
        control.disconnect();
      }
    });
  });

  it('says degraded (redis_oom) while Redis is out of memory under noeviction', async () => {
    await withRedis(async (redis, started) => {
      const server = await replica(redis);
      started.push(server);
      expect(await health(server)).toEqual({ status: 'ok' });
      const control = new Redis(redis.url);
      try {
        await control.config('SET', 'maxmemory-policy', 'noeviction');
        await control.config('SET', 'maxmemory', '1');
        for (let index = 0; index < 4; index++) expect((await status(server, `198.51.100.${30 + index}`)).status).toBe(200);
        const report = await health(server);
        expect(report).toMatchObject({ status: 'degraded', reason: 'redis_oom' });
        expect(await redisUp(server)).toBe('0');
        await control.config('SET', 'maxmemory', '0');
      } finally {
        control.disconnect();
      }
    });
  });
});

describe('limits while Redis fails', () => {
  it('three replicas admit at most N in total while Redis is down (each its share)', async () => {
    await withRedis(async (redis, started) => {
      const args = ['--rate-limit', '12', '--rate-window', '60'];
      started.push(...(await Promise.all([replica(redis, args), replica(redis, args), replica(redis, args)])));
      for (const server of started) await within(4000, async () => (await liveReplicas(server)) === 3, 50);
      await redis.kill();
      for (const server of started) await within(3000, async () => (await health(server)).reason === 'redis_down', 50);
      let admitted = 0;
      for (let index = 0; index < 36; index++) {
        const response = await status(started[index % 3] as ServedCli, '198.51.100.50');
        if (response.status === 200) admitted++;
        else expect(response.status).toBe(429);
      }
      // Each replica admits ceil(12 / 3) = 4: the cluster admits N, not N × replicas.
      expect(admitted).toBe(12);
      expect((await status(started[0] as ServedCli, '198.51.100.51')).status).toBe(200);
    });
  });

  it('a script that timed out is not admitted twice (Redis counted it; the fallback only refuses past the share)', async () => {
    await withRedis(async (redis, started) => {
      const server = await replica(redis, ['--rate-limit', '10', '--rate-window', '60', '--redis-timeout', '50']);
      started.push(server);
      const ip = '198.51.100.60';
      let admitted = 0;
      for (let index = 0; index < 9; index++) if ((await status(server, ip)).status === 200) admitted++;
      expect(admitted).toBe(9);
      const control = new Redis(redis.url);
      try {
        const sleeping = control.call('DEBUG', 'SLEEP', '0.6');
        await sleep(50);
        // These time out; their scripts run in Redis when it wakes (one admitted, two denied there).
        const during = await Promise.all([status(server, ip), status(server, ip), status(server, ip)]);
        admitted += during.filter((response) => response.status === 200).length;
        await sleeping;
      } finally {
        control.disconnect();
      }
      for (let index = 0; index < 3; index++) if ((await status(server, ip)).status === 200) admitted++;
      expect(admitted).toBe(10);
    });
  });

  it('after Redis restarts empty, the replicas re-seed what they counted in the window', async () => {
    await withRedis(async (redis, started) => {
      const args = ['--rate-limit', '10', '--rate-window', '60'];
      const a = await replica(redis, args);
      const b = await replica(redis, args);
      started.push(a, b);
      for (const server of started) await within(4000, async () => (await liveReplicas(server)) === 2, 50);
      const ip = '198.51.100.70';
      for (let index = 0; index < 6; index++) expect((await status(index % 2 === 0 ? a : b, ip)).status).toBe(200);
      await redis.kill();
      await redis.restart();
      await within(6000, async () => a.stdout().includes('re-seeded') && b.stdout().includes('re-seeded'), 50);
      let admitted = 0;
      for (let index = 0; index < 10; index++) if ((await status(index % 2 === 0 ? a : b, ip)).status === 200) admitted++;
      expect(admitted).toBe(4);
    });
  });
});

describe('sessions created during an outage', () => {
  it('become usable on the other replica once Redis is back', async () => {
    await withRedis(async (redis, started) => {
      const a = await replica(redis);
      const b = await replica(redis);
      started.push(a, b);
      await redis.kill();
      await within(3000, async () => (await health(a)).status === 'degraded', 50);
      const ip = { 'x-forwarded-for': '198.51.100.80' };
      const init = await send(`${a.url}/mcp`, { method: 'POST', headers: mcpHeaders(KEY, ip), body: initializeBody(1, '2025-06-18') });
      expect(init.status).toBe(200);
      const sessionId = init.headers['mcp-session-id'] as string;
      const headers = mcpHeaders(KEY, { ...ip, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' });
      const ping = () => send(`${b.url}/mcp`, { method: 'POST', headers, body: '{"jsonrpc":"2.0","id":2,"method":"ping"}' });
      await redis.restart();
      await within(6000, async () => (await ping()).status === 200, 50);
      expect((await ping()).json()).toMatchObject({ id: 2, result: {} });
    });
  });
});
