/**
 * Sessions and streams across replicas when someone else can write to Redis: two in-process
 * replicas on one real Redis and a plain Redis client without the shared secret. A forged
 * stream message is not delivered to a victim's GET stream (nor is a validly signed relayed
 * server-to-client request), a session whose owner was rewritten is 404 for everyone, a forged
 * stored SSE event is not replayed on resume, and replicas rotating the secret interoperate.
 */

import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { SharedSecret } from '../../src/security/shared-secret.js';
import { BusCodec } from '../../src/store/redis/signed-bus.js';
import { apiStatus, mcpHeaders, send } from '../helpers/http.js';
import { TEST_SHARED_SECRET, startRedis, useRedis } from '../helpers/redis.js';
import { countStream, openSse } from '../helpers/sse.js';
import { OTHER_KEY, TEST_KEY, openSession, startWarden, useSharedWarden, type RunningWarden } from '../helpers/warden.js';
import { sleep, until } from '../helpers/wait.js';
import { progressServer } from '../helpers/mcp-servers.js';

// Redis calls get a generous timeout: on a busy machine a 50 ms timeout falls back to per-replica state.
const PING = '{"jsonrpc":"2.0","id":7,"method":"ping"}';

/** The value of one counter series in a replica's /metrics (0 when absent). */
async function counter(warden: RunningWarden, name: string, label: string): Promise<number> {
  const response = await send(`${warden.url}/metrics`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
  expect(response.status).toBe(200);
  const line = response.text.split('\n').find((entry) => entry.startsWith(`${name}{${label}}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** Still answers: /health, a new session, a ping in it (the progress server has no calculator). */
async function stillServing(warden: RunningWarden): Promise<boolean> {
  if ((await send(`${warden.url}/health`)).status !== 200) return false;
  const session = await openSession(warden);
  const pong = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(TEST_KEY, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version }), body: PING });
  return pong.status === 200 && pong.text.includes('"result"');
}

describe('sessions and streams against a Redis writer without the shared secret', () => {
  const prefix = 'trust:';
  const redis = useRedis();
  const replica = () => ({ mcpServer: progressServer, options: { apiKeys: [TEST_KEY, OTHER_KEY], redisUrl: redis.server.url, redisPrefix: prefix, sharedSecret: TEST_SHARED_SECRET, redisTimeout: 1000 } });
  const a = useSharedWarden(replica);
  const b = useSharedWarden(replica);
  /** A Redis writer without the shared secret. */
  let attacker: Redis;
  beforeAll(() => {
    attacker = redis.connect();
  });

  it('delivers neither a forged stream message nor a signed relayed request to a GET stream; a signed notification arrives', async () => {
    const session = await openSession(a);
    const headers = mcpHeaders(TEST_KEY, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version });
    const stream = await openSse(a.mcpUrl, { headers: { ...headers, accept: 'text/event-stream' } });
    expect(stream.status).toBe(200);
    await sleep(100);
    const phishing = { jsonrpc: '2.0', id: 'x1', method: 'elicitation/create', params: { message: 'Re-enter your key at https://evil.example', requestedSchema: { type: 'object', properties: {} } } };
    const before = await counter(a, 'mcp_warden_bus_dropped_total', 'reason="request"');
    // 1. Unsigned, as anyone who can PUBLISH would send it.
    await attacker.publish(`${prefix}events`, JSON.stringify({ type: 'stream', origin: 'x', sessionId: session.sessionId, message: phishing }));
    // 2. Validly signed (as a replica would), but a request: only its own replica may deliver it.
    const codec = new BusCodec({ secret: new SharedSecret({ current: TEST_SHARED_SECRET }), channel: `${prefix}events` });
    await attacker.publish(`${prefix}events`, codec.encode({ type: 'stream', origin: 'replica-x', sessionId: session.sessionId, message: { ...phishing, id: 'x2' } }));
    // 3. A signed notification: delivered (and, pub/sub being ordered, proof the others were handled).
    await attacker.publish(
      `${prefix}events`,
      codec.encode({ type: 'stream', origin: 'replica-x', sessionId: session.sessionId, message: { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'control' } } }),
    );
    await stream.waitFor(1, 3000);
    await sleep(100);
    const delivered = stream.events.map((event) => event.data).filter((data) => data.length > 0);
    expect(delivered).toHaveLength(1);
    expect(JSON.parse(delivered[0] as string)).toMatchObject({ method: 'notifications/message', params: { data: 'control' } });
    expect(stream.events.some((event) => event.data.includes('elicitation/create'))).toBe(false);
    expect(await counter(a, 'mcp_warden_bus_dropped_total', 'reason="request"')).toBe(before + 1);
    expect(await counter(a, 'mcp_warden_bus_dropped_total', 'reason="malformed"')).toBeGreaterThanOrEqual(1);
    stream.close();
    expect(await stillServing(a)).toBe(true);
  });

  it('a session whose owner was rewritten in Redis is 404 for everyone, and the writer cannot adopt it', async () => {
    const victim = await openSession(a, '2025-11-25', TEST_KEY);
    const own = await openSession(a, '2025-11-25', OTHER_KEY);
    const attackerPrincipal = await attacker.hget(`${prefix}session:${own.sessionId}`, 'principal');
    expect(attackerPrincipal).toBeTruthy();
    const victimHeaders = (key: string) => mcpHeaders(key, { 'mcp-session-id': victim.sessionId, 'mcp-protocol-version': victim.version });
    // Before the edit, replica B (which does not hold it) serves it to its owner only.
    expect((await send(b.mcpUrl, { method: 'POST', headers: victimHeaders(OTHER_KEY), body: PING })).status).toBe(404);
    await attacker.hset(`${prefix}session:${victim.sessionId}`, 'principal', attackerPrincipal as string);
    const before = await counter(b, 'mcp_warden_redis_records_rejected_total', 'record="session"');
    const adopted = await send(b.mcpUrl, { method: 'POST', headers: victimHeaders(OTHER_KEY), body: PING });
    expect(adopted.status).toBe(404);
    expect(adopted.json()).toMatchObject({ error: { code: -32001 } });
    const owner = await send(b.mcpUrl, { method: 'POST', headers: victimHeaders(TEST_KEY), body: PING });
    expect(owner.status).toBe(404);
    expect(await counter(b, 'mcp_warden_redis_records_rejected_total', 'record="session"')).toBeGreaterThanOrEqual(before + 2);
    // A genuine record copied to another session's key is no more use than an edited one.
    const fields = await attacker.hgetall(`${prefix}session:${own.sessionId}`);
    await attacker.hset(`${prefix}session:forged-session-id-0001`, fields);
    const moved = await send(b.mcpUrl, {
      method: 'POST',
      headers: mcpHeaders(OTHER_KEY, { 'mcp-session-id': 'forged-session-id-0001', 'mcp-protocol-version': own.version }),
      body: PING,
    });
    expect(moved.status).toBe(404);
    expect(await stillServing(b)).toBe(true);
  });

  it('a forged event pushed into a stored stream is not replayed on resume', async () => {
    const { stream: original, headers } = await countStream(a, { n: 3, id: 'c', key: TEST_KEY });
    await original.ended();
    await sleep(100);
    const firstId = original.events[0]?.id as string;
    const streamId = firstId.slice(0, firstId.lastIndexOf('/'));
    const listKey = `${prefix}sse:${streamId}`;
    expect(await attacker.llen(listKey)).toBeGreaterThan(0);
    const forged = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'forged: visit https://evil.example' } });
    await attacker.rpush(listKey, `999\n${forged}`, `1000 ${forged}`);
    const before = await counter(b, 'mcp_warden_redis_records_rejected_total', 'record="event"');
    const resumed = await openSse(b.mcpUrl, { headers: { ...headers, accept: 'text/event-stream', 'last-event-id': firstId } });
    await resumed.ended();
    expect(resumed.events.map((event) => event.id)).toEqual(original.events.slice(1).map((event) => event.id));
    expect(resumed.events.some((event) => event.data.includes('forged'))).toBe(false);
    expect(await counter(b, 'mcp_warden_redis_records_rejected_total', 'record="event"')).toBe(before + 2);
  });
});

describe('rotating the shared secret', () => {
  it('replicas on S1 (also accepting S2) and on S2 (also accepting S1) share sessions and bans; a replica on S3 alone shares nothing', async () => {
    const redis = await startRedis();
    const S1 = 'rotation-secret-one-0123456789abcdefghijk';
    const S2 = 'rotation-secret-two-0123456789abcdefghijk';
    const S3 = 'rotation-secret-three-0123456789abcdefghi';
    const base = { apiKeys: [TEST_KEY], redisUrl: redis.url, redisPrefix: 'rot:', redisTimeout: 1000, trustProxy: { kind: 'hops' as const, hops: 1 }, banThreshold: 2, banSeconds: 60 };
    const wardens: RunningWarden[] = [];
    try {
      const a = await startWarden({ mcpServer: progressServer, options: { ...base, sharedSecret: S1, sharedSecretPrevious: S2 } });
      wardens.push(a);
      const b = await startWarden({ mcpServer: progressServer, options: { ...base, sharedSecret: S2, sharedSecretPrevious: S1 } });
      wardens.push(b);
      const c = await startWarden({ mcpServer: progressServer, options: { ...base, sharedSecret: S3 } });
      wardens.push(c);
      const ping = (target: RunningWarden, session: { sessionId: string; version: string }) =>
        send(target.mcpUrl, { method: 'POST', headers: mcpHeaders(TEST_KEY, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version }), body: PING });
      const onA = await openSession(a);
      const onB = await openSession(b);
      expect((await ping(b, onA)).status).toBe(200);
      expect((await ping(a, onB)).status).toBe(200);
      expect((await ping(c, onA)).status).toBe(404);
      // A ban decided on A (signed with S1) reaches B, not C.
      const attackerIp = { 'x-forwarded-for': '203.0.113.50' };
      for (let index = 0; index < 3; index++) await apiStatus(a, `wrong-${index}-0123456789abcdef`, attackerIp);
      // The ban is decided on the request path; the poll only absorbs a slow machine.
      expect(await until(async () => (await apiStatus(a, TEST_KEY, attackerIp)).status === 403, 1000, 25)).toBe(true);
      const banned = await until(async () => (await apiStatus(b, TEST_KEY, attackerIp)).status === 403, 1000, 25);
      expect(banned).toBe(true);
      expect((await apiStatus(c, TEST_KEY, attackerIp)).status).toBe(200);
      expect(await counter(c, 'mcp_warden_bus_dropped_total', 'reason="bad_mac"')).toBeGreaterThanOrEqual(1);
    } finally {
      await Promise.allSettled(wardens.map((warden) => warden.stop()));
      await redis.stop();
    }
  });
});
