/**
 * Sessions and streams end when their credential does, and nothing a client holds lives
 * forever: revocation (keys file, SIGHUP), key expiry and rotation past its overlap close the
 * principal's sessions and GET streams within a second; a session kept only by a GET stream is
 * closed at its TTL; GET streams have an idle and an absolute lifetime; sessions that never did
 * anything after initialize go after a short TTL; a key at its session cap evicts its own least
 * recently used idle session instead of being refused; a stolen session id cannot keep the
 * victim's session alive. Time moves on an injected clock, never by sleeping on margins.
 */

import { McpServer } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeyRecord, updateKeysFile, type KeyFileRecord } from '../../src/security/keys-file.js';
import { manualClock, type ManualClock } from '../helpers/clock.js';
import { within } from '../helpers/wait.js';
import { apiStatus, apiTools, initializeBody, mcpHeaders, send, type RawResponse } from '../helpers/http.js';
import { openSse, type SseConnection } from '../helpers/sse.js';
import { OTHER_KEY, TEST_KEY, openSession, stillServing, type RunningWarden, useWarden } from '../helpers/warden.js';
import { listChangingServer } from '../helpers/mcp-servers.js';
import { addKey, tempKeysPath } from '../helpers/keys.js';

const PING = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' });

const streams: SseConnection[] = [];
afterEach(() => {
  for (const stream of streams.splice(0)) stream.close();
});

function sessionHeaders(key: string, session: { sessionId: string; version: string }, extra: Record<string, string> = {}): Record<string, string> {
  return mcpHeaders(key, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version, ...extra });
}

/** A session of `key` that did something (a ping), so the ordinary TTL applies. */
async function usedSession(warden: RunningWarden, key: string): Promise<{ sessionId: string; version: string }> {
  const session = await openSession(warden, '2025-11-25', key);
  const ping = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders(key, session), body: PING });
  expect(ping.status).toBe(200);
  return session;
}

async function getStream(warden: RunningWarden, key: string, session: { sessionId: string; version: string }, extra: Record<string, string> = {}): Promise<SseConnection> {
  const stream = await openSse(warden.mcpUrl, { headers: sessionHeaders(key, session, { accept: 'text/event-stream', ...extra }) });
  streams.push(stream);
  expect(stream.status).toBe(200);
  return stream;
}

function ping(warden: RunningWarden, key: string, session: { sessionId: string; version: string }): Promise<RawResponse> {
  return send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders(key, session), body: PING });
}

/** Sessions held, read without touching any of them (polling with a request would count as use). */
async function activeSessions(warden: RunningWarden): Promise<number> {
  const status = await apiStatus(warden, warden.key);
  return status.json<{ activeSessions: number }>().activeSessions;
}

function expectSessionGone(response: RawResponse): void {
  expect(response.status).toBe(404);
  expect(response.json()).toEqual({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
}

function expectUnauthorized(response: RawResponse): void {
  expect(response.status).toBe(401);
  expect(response.headers['www-authenticate']).toMatch(/error="invalid_token"/);
}

describe('a credential\u2019s end ends its sessions and streams', () => {
  it('keys revoke (through the keys file) ends the key\u2019s GET stream within a second; the key then gets 401; other keys go on', async () => {
    const path = tempKeysPath('warden-lifetimes-');
    const victim = addKey(path, { name: 'victim' });
    const bystander = addKey(path, { name: 'bystander' });
    const running = await useWarden({ options: { keysFile: path } });
    const session = await usedSession(running, victim.key);
    const stream = await getStream(running, victim.key, session);
    const other = await usedSession(running, bystander.key);
    const otherStream = await getStream(running, bystander.key, other);

    const revokedAt = Date.now();
    updateKeysFile(path, (file) => {
      (file.keys.find((record) => record.id === victim.record.id) as KeyFileRecord).disabled = true;
    });
    await stream.ended(1000);
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    expectUnauthorized(await ping(running, victim.key, session));
    // The other key's session and stream are untouched.
    expect((await ping(running, bystander.key, other)).status).toBe(200);
    await expect(otherStream.ended(300)).rejects.toThrow(/did not end/);
    expect(running.logs().some((line) => line['msg'] === 'session closed: its credential was revoked or expired' && line['principal'] === victim.record.id)).toBe(true);
    expect(await stillServing(running)).toBe(true);
  });

  it('a key removed from the file and re-read on SIGHUP ends its stream within a second', async () => {
    const path = tempKeysPath('warden-lifetimes-');
    const gone = addKey(path, { name: 'gone' });
    const running = await useWarden({ options: { keysFile: path } });
    const session = await usedSession(running, gone.key);
    const stream = await getStream(running, gone.key, session);
    updateKeysFile(path, (file) => {
      file.keys = file.keys.filter((record) => record.id !== gone.record.id);
    });
    process.kill(process.pid, 'SIGHUP');
    await stream.ended(1000);
    expectUnauthorized(await ping(running, gone.key, session));
    expect(await stillServing(running)).toBe(true);
  });

  it('a key reaching its expiry (by the clock, no request needed) ends its stream within a second, then 401', async () => {
    const clock = manualClock();
    const path = tempKeysPath('warden-lifetimes-');
    const shortLived = addKey(path, { name: 'short', expiresAt: clock.now() + 60_000 });
    const running = await useWarden({ clock: clock.now, options: { keysFile: path } });
    const session = await usedSession(running, shortLived.key);
    const stream = await getStream(running, shortLived.key, session);
    clock.advance(59_000);
    await expect(stream.ended(700)).rejects.toThrow(/did not end/);
    expect((await ping(running, shortLived.key, session)).status).toBe(200);
    clock.advance(1_000);
    await stream.ended(1000);
    const refused = await ping(running, shortLived.key, session);
    expectUnauthorized(refused);
    expect(running.logs().some((line) => line['failure'] === 'auth_invalid:expired')).toBe(true);
    expect(await stillServing(running)).toBe(true);
  });

  it('a rotated key works during its overlap; past it its stream ends within a second and it gets 401, the new key works', async () => {
    const clock = manualClock();
    const path = tempKeysPath('warden-lifetimes-');
    const old = addKey(path, { name: 'svc' });
    // Session and stream lifetimes longer than the overlap: only the key's end may close them.
    const running = await useWarden({ clock: clock.now, options: { keysFile: path, sessionTtl: 86_400, streamIdleTimeout: 86_400, streamMaxLifetime: 86_400 } });
    const session = await usedSession(running, old.key);
    const stream = await getStream(running, old.key, session);
    // What `keys rotate --overlap 1h` writes.
    const fresh = createKeyRecord({ name: 'svc', rotatedFrom: old.record.id });
    updateKeysFile(path, (file) => {
      (file.keys.find((record) => record.id === old.record.id) as KeyFileRecord).expires = new Date(clock.now() + 3_600_000).toISOString();
      file.keys.push(fresh.record);
    });
    await within(1000, async () => (await apiTools(running, fresh.key)).status === 200);
    clock.advance(3_599_000);
    await expect(stream.ended(700)).rejects.toThrow(/did not end/);
    expect((await ping(running, old.key, session)).status).toBe(200);
    clock.advance(1_000);
    await stream.ended(1000);
    expectUnauthorized(await ping(running, old.key, session));
    expect((await apiTools(running, fresh.key)).status).toBe(200);
    expect(await stillServing(running)).toBe(true);
  });
});

describe('stateless mode: no session, but a credential\u2019s end still ends its requests in flight', () => {
  /** A server whose `wait` tool runs until cancelled (or 20 s), noting each cancellation. */
  function waitingServer(cancelled: string[]): McpServer {
    const server = new McpServer({ name: 'waiting', version: '1.0.0' });
    server.registerTool('wait', { description: 'Waits until cancelled' }, async (ctx) => {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20_000);
        ctx.mcpReq.signal.addEventListener('abort', () => {
          cancelled.push(String(ctx.mcpReq.id));
          clearTimeout(timer);
          resolve();
        });
      });
      return { content: [{ type: 'text', text: 'done' }] };
    });
    server.registerTool('quick', { description: 'Answers at once' }, () => ({ content: [{ type: 'text', text: 'quick' }] }));
    return server;
  }

  function call(running: RunningWarden, key: string, id: number, name: string, accept = 'text/event-stream'): { url: string; options: { method: string; headers: Record<string, string>; body: string } } {
    const headers = mcpHeaders(key, { accept, 'mcp-protocol-version': '2025-11-25' });
    return { url: running.mcpUrl, options: { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } }) } };
  }

  it('keys revoke ends the key\u2019s streaming tool call within a second and cancels the tool; other keys\u2019 calls go on', async () => {
    const path = tempKeysPath();
    const victim = addKey(path, { name: 'victim' });
    const bystander = addKey(path, { name: 'bystander' });
    const cancelled: string[] = [];
    const running = await useWarden({ options: { keysFile: path, stateless: true }, mcpServer: () => waitingServer(cancelled) });
    const victimCall = call(running, victim.key, 1, 'wait');
    const stream = await openSse(victimCall.url, victimCall.options);
    streams.push(stream);
    expect(stream.status).toBe(200);
    const otherCall = call(running, bystander.key, 2, 'wait');
    const otherStream = await openSse(otherCall.url, otherCall.options);
    streams.push(otherStream);
    expect(otherStream.status).toBe(200);

    const revokedAt = Date.now();
    updateKeysFile(path, (file) => {
      (file.keys.find((record) => record.id === victim.record.id) as KeyFileRecord).disabled = true;
    });
    await stream.ended(1000);
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    await within(1000, async () => cancelled.length === 1);
    const again = call(running, victim.key, 3, 'quick', 'application/json, text/event-stream');
    expectUnauthorized(await send(again.url, again.options));
    // The other key's call is untouched, and the server still serves it.
    await expect(otherStream.ended(300)).rejects.toThrow(/did not end/);
    expect(cancelled).toHaveLength(1);
    const quick = call(running, bystander.key, 4, 'quick', 'application/json, text/event-stream');
    const answer = await send(quick.url, quick.options);
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('"quick"');
  });
});

describe('lifetimes', () => {
  it('a session whose only activity is an open GET stream is closed at its TTL, stream and all', async () => {
    const clock = manualClock();
    const running = await useWarden({ clock: clock.now, options: { sessionTtl: 100, streamIdleTimeout: 1000, streamMaxLifetime: 1000 } });
    const session = await usedSession(running, TEST_KEY);
    const stream = await getStream(running, TEST_KEY, session);
    clock.advance(101_000);
    await stream.ended(1000);
    expectSessionGone(await ping(running, TEST_KEY, session));
    expect(await stillServing(running)).toBe(true);
  });

  it('a GET stream idle past --stream-idle-timeout ends with a retry hint; the client resumes with Last-Event-ID on the same session', async () => {
    const clock = manualClock();
    const running = await useWarden({ clock: clock.now, mcpServer: listChangingServer, options: { streamIdleTimeout: 30, streamMaxLifetime: 1000 } });
    const session = await usedSession(running, TEST_KEY);
    const stream = await getStream(running, TEST_KEY, session);
    const call = JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'add_tool', arguments: {} } });
    expect((await send(running.mcpUrl, { method: 'POST', headers: sessionHeaders(TEST_KEY, session), body: call })).status).toBe(200);
    const [changed] = await stream.waitFor(1);
    expect(JSON.parse((changed as { data: string }).data)).toMatchObject({ method: 'notifications/tools/list_changed' });
    // A message resets the idle timer.
    clock.advance(29_000);
    await expect(stream.ended(700)).rejects.toThrow(/did not end/);
    clock.advance(1_000);
    await stream.ended(1000);
    expect(stream.events.at(-1)?.retry).toBe(1000);
    // Reconnecting with the last event id continues on a new GET stream of the same session.
    const resumed = await getStream(running, TEST_KEY, session, { 'last-event-id': (changed as { id: string }).id });
    await expect(resumed.ended(300)).rejects.toThrow(/did not end/);
    expect((await send(running.mcpUrl, { method: 'POST', headers: sessionHeaders(TEST_KEY, session), body: call.replace('"id":5', '"id":6') })).status).toBe(200);
    const [next] = await resumed.waitFor(1);
    expect(JSON.parse((next as { data: string }).data)).toMatchObject({ method: 'notifications/tools/list_changed' });
    expect((next as { id: string }).id).not.toBe((changed as { id: string }).id);
    // It really is the session's GET stream: a plain second GET conflicts with it.
    expect((await send(running.mcpUrl, { headers: sessionHeaders(TEST_KEY, session, { accept: 'text/event-stream' }) })).status).toBe(409);
    expect((await send(`${running.url}/health`)).status).toBe(200);
  });

  it('a GET stream ends at --stream-max-lifetime however recently the session was used', async () => {
    const clock = manualClock();
    const running = await useWarden({ clock: clock.now, options: { streamIdleTimeout: 1000, streamMaxLifetime: 60 } });
    const session = await usedSession(running, TEST_KEY);
    const stream = await getStream(running, TEST_KEY, session);
    clock.advance(59_000);
    expect((await ping(running, TEST_KEY, session)).status).toBe(200);
    await expect(stream.ended(700)).rejects.toThrow(/did not end/);
    clock.advance(1_000);
    await stream.ended(1000);
    expect((await ping(running, TEST_KEY, session)).status).toBe(200);
    expect(await stillServing(running)).toBe(true);
  });

  it('a session that did nothing after initialize is closed after --session-unused-ttl; a used one is not', async () => {
    const clock = manualClock();
    const running = await useWarden({ clock: clock.now, options: { sessionUnusedTtl: 60, sessionTtl: 1800 } });
    const idle = await openSession(running); // initialize + notifications/initialized only
    const used = await usedSession(running, TEST_KEY);
    expect(await activeSessions(running)).toBe(2);
    clock.advance(61_000);
    await within(1000, async () => (await activeSessions(running)) === 1);
    expectSessionGone(await ping(running, TEST_KEY, idle));
    expect((await ping(running, TEST_KEY, used)).status).toBe(200);
    expect(await stillServing(running)).toBe(true);
  });
});

describe('clients that never send DELETE', () => {
  it('1,000 initializes with a per-key cap of 5 are all served: the least recently used idle session is evicted, a busy one never', async () => {
    const clock = manualClock();
    const running = await useWarden({
      clock: clock.now,
      options: { apiKeys: [TEST_KEY, OTHER_KEY], maxSessionsPerKey: 5, sessionUnusedTtl: 3600, sessionTtl: 3600, streamIdleTimeout: 3600, streamMaxLifetime: 3600, rateLimit: 100_000 },
    });
    const busy = await usedSession(running, TEST_KEY);
    await getStream(running, TEST_KEY, busy);
    const order: Array<{ sessionId: string; version: string }> = [];
    for (let index = 0; index < 1000; index++) {
      clock.advance(1_000);
      const response = await send(running.mcpUrl, { method: 'POST', headers: mcpHeaders(TEST_KEY), body: initializeBody(index) });
      expect(response.status, `initialize ${index}`).toBe(200);
      order.push({ sessionId: response.headers['mcp-session-id'] as string, version: '2025-11-25' });
    }
    // Four slots besides the busy one: the four newest survive, everything older was evicted.
    for (const session of order.slice(-4)) expect((await ping(running, TEST_KEY, session)).status).toBe(200);
    for (const session of [order[0], order[500], order[995]]) expectSessionGone(await ping(running, TEST_KEY, session as { sessionId: string; version: string }));
    expect((await ping(running, TEST_KEY, busy)).status).toBe(200);

    // Using an older session makes it recently used: the next eviction takes the one used least recently.
    const [a, b] = order.slice(-4) as [{ sessionId: string; version: string }, { sessionId: string; version: string }];
    clock.advance(1_000);
    expect((await ping(running, TEST_KEY, a)).status).toBe(200);
    clock.advance(1_000);
    expect((await send(running.mcpUrl, { method: 'POST', headers: mcpHeaders(TEST_KEY), body: initializeBody() })).status).toBe(200);
    expectSessionGone(await ping(running, TEST_KEY, b));
    expect((await ping(running, TEST_KEY, a)).status).toBe(200);

    // Another key's sessions are never evicted for this key.
    const others = await usedSession(running, OTHER_KEY);
    expect((await ping(running, OTHER_KEY, others)).status).toBe(200);
    expect(await stillServing(running)).toBe(true);
  }, 60_000);

  it('when every session of the key is busy, initialize gets 503 -32000 and nothing is evicted', async () => {
    const running = await useWarden({ options: { maxSessionsPerKey: 2 } });
    const held = [];
    for (let index = 0; index < 2; index++) {
      const session = await usedSession(running, TEST_KEY);
      await getStream(running, TEST_KEY, session);
      held.push(session);
    }
    const refused = await send(running.mcpUrl, { method: 'POST', headers: mcpHeaders(TEST_KEY), body: initializeBody() });
    expect(refused.status).toBe(503);
    expect(refused.json()).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: 'Too many sessions; retry later' }, id: null });
    for (const session of held) expect((await ping(running, TEST_KEY, session)).status).toBe(200);
    expect((await send(`${running.url}/health`)).status).toBe(200);
  });
});

describe('a stolen session id', () => {
  it('another key presenting the victim\u2019s session id gets 404 and does not keep the session alive', async () => {
    const clock = manualClock();
    const running = await useWarden({ clock: clock.now, options: { apiKeys: [TEST_KEY, OTHER_KEY], sessionTtl: 100 } });
    const victim = await usedSession(running, TEST_KEY);
    for (let step = 0; step < 3; step++) {
      clock.advance(60_000);
      // Every 60 s the thief uses the id: were that to count as use, the session would never idle out.
      const stolen = await ping(running, OTHER_KEY, victim);
      expectSessionGone(stolen);
    }
    await within(1000, async () => (await activeSessions(running)) === 0);
    expectSessionGone(await ping(running, TEST_KEY, victim));
    expect(await stillServing(running)).toBe(true);
  });
});

export type { ManualClock };
