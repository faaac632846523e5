/**
 * The benchmark's modern request and its answer check (bench/lib/mcp-http.mjs): the request
 * `modernCall` builds is one the v2 SDK's own handler serves as a 2026-07-28 request, and the
 * per-response check of a timed run accepts only the echo result, so a JSON-RPC error or an
 * unfinished result can never count as throughput.
 */

import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import { answerCheck, CALL_ID, ECHO_ARGS, echoProblem, modernCall } from '../../bench/lib/mcp-http.mjs';

function echoServer(): McpServer {
  const server = new McpServer({ name: 'bench-test', version: '1.0.0' });
  server.registerTool('echo', { description: 'Returns its input', inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({
    content: [{ type: 'text' as const, text }],
  }));
  return server;
}

/** Serves one request through the SDK's modern-only handler; resolves with status and body. */
async function serve(headers: Readonly<Record<string, string>>, body: string): Promise<{ status: number; text: string }> {
  const handler = createMcpHandler(() => echoServer(), { legacy: 'reject' });
  try {
    const response = await handler.fetch(new Request('http://127.0.0.1/mcp', { method: 'POST', headers, body }));
    return { status: response.status, text: await response.text() };
  } finally {
    await handler.close();
  }
}

const complete = (extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ jsonrpc: '2.0', id: CALL_ID, result: { content: [{ type: 'text', text: 'hello' }], resultType: 'complete', ...extra } });

describe('modernCall', () => {
  it('builds the 2026-07-28 tools/call: _meta envelope in the body, the matching headers, the key only when given', () => {
    const call = modernCall('echo', ECHO_ARGS, 'k'.repeat(32));
    expect(JSON.parse(call.body)).toEqual({
      jsonrpc: '2.0',
      id: CALL_ID,
      method: 'tools/call',
      params: {
        name: 'echo',
        arguments: { text: 'hello' },
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientCapabilities': {},
          'io.modelcontextprotocol/clientInfo': { name: 'mcp-warden-bench', version: '1.0.0' },
        },
      },
    });
    expect(call.headers).toEqual({
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'echo',
      authorization: `Bearer ${'k'.repeat(32)}`,
    });
    expect(modernCall('echo', ECHO_ARGS).headers).not.toHaveProperty('authorization');
    // A name that is not plain printable ASCII travels as the spec's Base64 sentinel.
    expect(modernCall('écho', ECHO_ARGS).headers['mcp-name']).toBe(`=?base64?${Buffer.from('écho').toString('base64')}?=`);
  });

  it("is served by the v2 SDK's modern-only handler, and the answer passes the modern check", async () => {
    const call = modernCall('echo', ECHO_ARGS);
    const answer = await serve(call.headers, call.body);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ id: CALL_ID, result: { resultType: 'complete', content: [{ text: 'hello' }] } });
    expect(answerCheck('modern')(answer.text)).toBe(true);
  });

  it("a refused modern request (Mcp-Name not matching the body) fails the check: the SDK's error is not throughput", async () => {
    const call = modernCall('echo', ECHO_ARGS);
    const answer = await serve({ ...call.headers, 'mcp-name': 'other' }, call.body);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: -32020 } });
    expect(answerCheck('modern')(answer.text)).toBe(false);
  });
});

describe('answerCheck', () => {
  const modern = answerCheck('modern');
  const legacy = answerCheck('legacy');

  it('accepts the echo result, as JSON or as the last event of an SSE-framed answer', () => {
    expect(modern(complete())).toBe(true);
    expect(modern(`event: message\ndata: ${complete()}\n\n`)).toBe(true);
    // The 2025 era has no resultType.
    expect(legacy(JSON.stringify({ jsonrpc: '2.0', id: CALL_ID, result: { content: [{ type: 'text', text: 'hello' }] } }))).toBe(true);
  });

  it('refuses JSON-RPC errors, unfinished or tool-error results, other ids or texts, and non-JSON', () => {
    expect(modern(JSON.stringify({ jsonrpc: '2.0', id: CALL_ID, error: { code: -32602, message: 'Invalid params' } }))).toBe(false);
    expect(legacy(JSON.stringify({ jsonrpc: '2.0', id: CALL_ID, error: { code: -32603, message: 'Internal error' } }))).toBe(false);
    expect(modern(complete({ resultType: 'input_required' }))).toBe(false);
    expect(modern(JSON.stringify({ jsonrpc: '2.0', id: CALL_ID, result: { content: [{ type: 'text', text: 'hello' }] } }))).toBe(false);
    expect(modern(complete({ isError: true }))).toBe(false);
    expect(modern(complete().replace(`"id":${CALL_ID}`, '"id":99'))).toBe(false);
    expect(modern(complete().replace('"hello"', '"bye"'))).toBe(false);
    expect(modern('Too Many Requests')).toBe(false);
    expect(modern('')).toBe(false);
  });

  it('names what is wrong', () => {
    expect(echoProblem(JSON.parse(complete({ resultType: 'input_required' })), 'modern')).toBe('resultType "input_required" instead of "complete"');
    expect(echoProblem({ jsonrpc: '2.0', id: CALL_ID, error: { code: -32602 } }, 'modern')).toBe('JSON-RPC error -32602');
    expect(echoProblem(JSON.parse(complete()), 'modern')).toBeUndefined();
  });
});
