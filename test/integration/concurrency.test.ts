/**
 * Every response goes to the request that asked for it (the failure class of CVE-2026-25536):
 * hundreds of concurrent requests reusing the same JSON-RPC id, across sessions, within one
 * session and in stateless mode, each checked against its own answer.
 */

import { describe, expect, it } from 'vitest';
import { mcpHeaders, send } from '../helpers/http.js';
import { openSession, useWarden } from '../helpers/warden.js';

function echoCall(id: number | string, text: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } });
}

function answerText(body: string): { id: unknown; text: string } {
  const parsed = JSON.parse(body) as { id: unknown; result: { content: Array<{ text: string }> } };
  return { id: parsed.id, text: parsed.result.content[0]?.text ?? '' };
}

describe('response routing under concurrency', () => {
  it('20 sessions × 20 concurrent calls, all with id 1, each get their own answer', async () => {
    const warden = await useWarden({ options: { rateLimit: 100_000 } });
    const sessions = await Promise.all(Array.from({ length: 20 }, () => openSession(warden)));
    const calls = sessions.flatMap((session, s) =>
      Array.from({ length: 20 }, (_, c) => {
        const text = `session-${s}-call-${c}`;
        return send(warden.mcpUrl, {
          method: 'POST',
          headers: mcpHeaders(warden.key, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version }),
          body: echoCall(1, text),
        }).then((response) => ({ text, response }));
      }),
    );
    const results = await Promise.all(calls);
    expect(results).toHaveLength(400);
    for (const { text, response } of results) {
      expect(response.status).toBe(200);
      expect(answerText(response.text)).toEqual({ id: 1, text });
    }
  });

  it('300 concurrent stateless calls with the same id each get their own answer', async () => {
    const warden = await useWarden({ options: { rateLimit: 100_000, stateless: true } });
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, index) => {
        const text = `stateless-${index}`;
        return send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(warden.key, { 'mcp-protocol-version': '2025-11-25' }), body: echoCall('same', text) }).then(
          (response) => ({ text, response }),
        );
      }),
    );
    for (const { text, response } of results) {
      expect(response.status).toBe(200);
      expect(answerText(response.text)).toEqual({ id: 'same', text });
    }
  });

  it('one session reusing an id concurrently still gets each answer on its own request', async () => {
    const warden = await useWarden({ options: { rateLimit: 100_000 } });
    const session = await openSession(warden);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) => {
        const text = `dup-${index}`;
        return send(warden.mcpUrl, {
          method: 'POST',
          headers: mcpHeaders(warden.key, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version }),
          body: echoCall(7, text),
        }).then((response) => ({ text, response }));
      }),
    );
    for (const { text, response } of results) expect(answerText(response.text)).toEqual({ id: 7, text });
  });
});
