/**
 * Session bounds (cap → 503, idle sessions closed), monitoring switched off, and the
 * benchmark-only mode without security layers.
 */

import { describe, expect, it } from 'vitest';
import { SessionRegistry } from '../../src/mcp/sessions.js';
import { EngineLink } from '../../src/mcp/transport/engine-link.js';
import { SessionChannel } from '../../src/mcp/transport/session-channel.js';
import { DefaultPolicy } from '../../src/mcp/policy.js';
import { apiStatus, initializeBody, mcpHeaders, send } from '../helpers/http.js';
import { openSse } from '../helpers/sse.js';
import { openSession, OTHER_KEY, TEST_KEY, useWarden } from '../helpers/warden.js';

describe('session bounds', () => {
  it('refuses new sessions beyond --max-sessions with 503 and Retry-After, and serves again when one ends', async () => {
    // The sessions belong to another key: a caller only ever makes room by evicting its own.
    const warden = await useWarden({ options: { apiKeys: [TEST_KEY, OTHER_KEY], maxSessions: 2 } });
    const first = await openSession(warden, '2025-11-25', OTHER_KEY);
    await openSession(warden, '2025-11-25', OTHER_KEY);
    const third = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(TEST_KEY), body: initializeBody() });
    expect(third.status).toBe(503);
    expect(third.json()).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: 'Too many sessions; retry later' }, id: null });
    expect(third.headers['retry-after']).toBe('30');
    await send(warden.mcpUrl, { method: 'DELETE', headers: mcpHeaders(OTHER_KEY, { 'mcp-session-id': first.sessionId }) });
    expect((await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(TEST_KEY), body: initializeBody() })).status).toBe(200);
  });

  it('an initialize the engine would silently drop is refused at once and holds no session slot', async () => {
    const warden = await useWarden({ options: { maxSessions: 2 } });
    const malformed = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', x: 1, params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    for (let index = 0; index < 5; index++) {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(warden.key), body: malformed, timeoutMs: 2000 });
      expect(response.status).toBe(400);
    }
    expect((await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(warden.key), body: initializeBody() })).status).toBe(200);
  });

  it('closes sessions idle longer than the TTL, but not busy ones', async () => {
    let now = 0;
    const closed: string[] = [];
    const registry = new SessionRegistry({ max: 10, ttlMs: 1000, now: () => now, onClosed: (session, reason) => closed.push(`${session.id}:${reason}`) });
    const link = new EngineLink({ policy: new DefaultPolicy() });
    for (const id of ['idle', 'used']) {
      registry.add({ id, principalId: 'p', principalKind: 'api-key', protocolVersion: '2025-11-25', createdAt: 0, lastSeen: 0, used: true, credentialExpiresAt: undefined, channel: new SessionChannel({ sessionId: id, link }), server: undefined });
    }
    now = 900;
    const used = registry.peek('used');
    if (used !== undefined) registry.touch(used);
    now = 1500;
    await registry.sweep();
    expect(closed).toEqual(['idle:expired']);
    expect(registry.size).toBe(1);
    await registry.closeAll();
  });
});

describe('sessions per key', () => {
  it('caps the sessions one key may hold (--max-sessions-per-key) without limiting other keys', async () => {
    const warden = await useWarden({ options: { apiKeys: [TEST_KEY, OTHER_KEY], maxSessionsPerKey: 2 } });
    // Both sessions hold a GET stream: busy sessions are never evicted to make room.
    const streams = [];
    for (let index = 0; index < 2; index++) {
      const session = await openSession(warden, '2025-11-25', TEST_KEY);
      streams.push(await openSse(warden.mcpUrl, { headers: mcpHeaders(TEST_KEY, { accept: 'text/event-stream', 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version }) }));
    }
    try {
      const third = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(TEST_KEY), body: initializeBody() });
      expect(third.status).toBe(503);
      expect(third.json()).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: 'Too many sessions; retry later' }, id: null });
      expect((await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(OTHER_KEY), body: initializeBody() })).status).toBe(200);
    } finally {
      for (const stream of streams) stream.close();
      await warden.stop();
    }
  });

  it('a foreign principal presenting a session id does not keep the session alive', async () => {
    let now = 0;
    const registry = new SessionRegistry({ max: 10, ttlMs: 1000, now: () => now });
    const link = new EngineLink({ policy: new DefaultPolicy() });
    registry.add({ id: 's', principalId: 'owner', principalKind: 'api-key', protocolVersion: '2025-11-25', createdAt: 0, lastSeen: 0, used: true, credentialExpiresAt: undefined, channel: new SessionChannel({ sessionId: 's', link }), server: undefined });
    now = 900;
    // peek() (what a lookup does before the owner check) does not refresh the idle timer.
    expect(registry.peek('s')?.lastSeen).toBe(0);
    now = 1500;
    await registry.sweep();
    expect(registry.size).toBe(0);
    await registry.closeAll();
  });
});

describe('MCP_ENABLE_MONITORING=false', () => {
  it('keeps counters at zero and serves no /metrics', async () => {
    const warden = await useWarden({ options: { monitoring: false } });
    await apiStatus(warden, 'wrong-key-0123456789abcdef');
    const status = (await apiStatus(warden, warden.key)).json<Record<string, unknown>>();
    expect(status).toMatchObject({ monitoring: false, requestsServed: 0, authFailures: 0, rateLimited: 0 });
    expect((await send(`${warden.url}/metrics`, { headers: { authorization: `Bearer ${warden.key}` } })).status).toBe(404);
  });
});

describe('benchmark-only mode', () => {
  it('serves without authentication or rate limiting and says so in the log', async () => {
    const warden = await useWarden({ benchmarkOnlyDisableSecurity: true, options: { rateLimit: 1 } });
    for (let index = 0; index < 3; index++) {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: initializeBody() });
      expect(response.status).toBe(200);
    }
    expect(warden.logs().some((line) => line['msg'] === 'security layers are OFF (benchmark mode); do not expose this server')).toBe(true);
  });
});
