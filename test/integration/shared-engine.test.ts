/**
 * One engine shared by many sessions (shareServer, stateless mode) never lets one principal
 * see or answer another's server-to-client traffic: requests the engine cannot address are
 * refused at once, logs outside a request are not broadcast, and a client's answer reaches the
 * engine only from the session the request was sent to.
 */

import { describe, expect, it } from 'vitest';
import { mcpHeaders, send } from '../helpers/http.js';
import { openSse } from '../helpers/sse.js';
import { openSession, OTHER_KEY, TEST_KEY, useSharedWarden, useWarden } from '../helpers/warden.js';
import { sleep } from '../helpers/wait.js';
import { chattyServer } from '../helpers/mcp-servers.js';


describe('a shared engine keeps principals apart', () => {
  const warden = useSharedWarden({ mcpServer: chattyServer, shareServer: true, options: { apiKeys: [TEST_KEY, OTHER_KEY] } });

  it('another principal\u2019s GET stream gets neither the request nor the log, and cannot answer it', async () => {
    const snoop = await openSession(warden, '2025-11-25', OTHER_KEY);
    // The victim's client supports elicitation, so the engine really tries to ask it.
    const init = await send(warden.mcpUrl, {
      method: 'POST',
      headers: mcpHeaders(TEST_KEY),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: { elicitation: {} }, clientInfo: { name: 'victim', version: '1' } } }),
    });
    const victim = { sessionId: init.headers['mcp-session-id'] as string, version: '2025-11-25' };
    const snoopHeaders = mcpHeaders(OTHER_KEY, { 'mcp-session-id': snoop.sessionId, 'mcp-protocol-version': snoop.version });
    const stream = await openSse(warden.mcpUrl, { headers: { ...snoopHeaders, accept: 'text/event-stream' } });
    const call = send(warden.mcpUrl, {
      method: 'POST',
      headers: mcpHeaders(TEST_KEY, { 'mcp-session-id': victim.sessionId, 'mcp-protocol-version': victim.version }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'ask_unrelated', arguments: {} } }),
    });
    // A forged answer with the engine's first request id, from the other principal's session.
    await sleep(50);
    const forged = await send(warden.mcpUrl, { method: 'POST', headers: snoopHeaders, body: JSON.stringify({ jsonrpc: '2.0', id: 0, result: { action: 'accept', content: { name: 'mallory' } } }) });
    expect(forged.status).toBe(202);
    const answer = (await call).json<{ result: { content: Array<{ text: string }> } }>();
    expect(answer.result.content[0]?.text).toMatch(/^refused: .*no session to send this request to/);
    await sleep(200);
    expect(stream.events).toEqual([]);
    stream.close();
  });
});

describe('stateless mode', () => {
  it('refuses server-to-client requests at once instead of letting any client answer them', async () => {
    const warden = await useWarden({ mcpServer: chattyServer, options: { stateless: true } });
    const started = Date.now();
    const response = await send(warden.mcpUrl, {
      method: 'POST',
      headers: mcpHeaders(warden.key, { 'mcp-protocol-version': '2025-11-25' }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'ask_related', arguments: {} } }),
    });
    expect(Date.now() - started).toBeLessThan(2000);
    const text = response.headers['content-type']?.toString().startsWith('text/event-stream')
      ? response.text
      : JSON.stringify(response.json());
    expect(text).toContain('refused: ');
    expect(text).toContain('no session to send this request to');
  });
});
