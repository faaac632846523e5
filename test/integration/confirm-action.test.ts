/**
 * `confirm_action` on 2025-era sessions through a real mcp-warden: the official SDK v2 client
 * (default `legacy` negotiation) with an elicitation handler gets a real `elicitation/create`
 * from the SDK's legacy shim and the tool confirms or cancels; a client that did not declare
 * elicitation gets a tool error and no elicitation, also when another client that did declare
 * it initialized later on the shared engine (and the other way round). A retry carrying a
 * `requestState` is checked before the tool runs: forged, foreign-principal, other-arguments
 * and expired states get HTTP 200 with the SDK's frozen -32602 and `data.reason`, the reason
 * only in the log, and the server serves on.
 */

import { describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { McpServer, inputRequired, inputResponse } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { FactoryContext } from '../../src/server.js';
import { keyFingerprint } from '../../src/security/api-keys.js';
import { mcpHeaders, modernBody, modernHeaders, send, type RawResponse } from '../helpers/http.js';
import { manualClock } from '../helpers/clock.js';
import { OTHER_KEY, TEST_KEY, stillServing, useSharedWarden, useWarden, type RunningWarden } from '../helpers/warden.js';

type TextContent = { type: 'text'; text: string };
type ElicitAnswer = { action: 'accept' | 'decline' | 'cancel'; content?: Record<string, string | number | boolean | string[]> };

const FROZEN = { code: -32602, message: 'Invalid or expired requestState', data: { reason: 'invalid_request_state' } };

function text(result: unknown): string {
  return ((result as { content?: TextContent[] }).content ?? [])[0]?.text ?? '';
}

/** A v2 client on a 2025 session; with `answer`, it declares elicitation and answers each one so (recording the messages). */
async function v2Client(warden: RunningWarden, answer?: ElicitAnswer): Promise<{ client: Client; asked: string[] }> {
  const transport = new StreamableHTTPClientTransport(new URL(warden.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${warden.key}` } } });
  const client = new Client({ name: 'confirm-test', version: '1.0.0' }, answer === undefined ? {} : { capabilities: { elicitation: { form: {} } } });
  const asked: string[] = [];
  if (answer !== undefined) {
    client.setRequestHandler('elicitation/create', (request) => {
      asked.push(String((request.params as { message?: unknown }).message));
      return answer;
    });
  }
  await client.connect(transport);
  return { client, asked };
}

/** A raw 2025 session whose client declared elicitation. */
async function rawSession(warden: RunningWarden, key: string): Promise<Record<string, string>> {
  const init = await send(warden.mcpUrl, {
    method: 'POST',
    headers: mcpHeaders(key),
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: { elicitation: {} }, clientInfo: { name: 'raw', version: '1' } } }),
  });
  expect(init.status).toBe(200);
  const headers = mcpHeaders(key, { 'mcp-session-id': init.headers['mcp-session-id'] as string, 'mcp-protocol-version': '2025-11-25' });
  await send(warden.mcpUrl, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  return headers;
}

/** The JSON-RPC answer in a response (JSON or a one-event SSE stream). */
function answerOf(response: RawResponse): { result?: unknown; error?: { code: number; message: string; data?: unknown } } {
  const body = response.text.startsWith('{') ? response.text : (/^data: (.*)$/m.exec(response.text)?.[1] ?? '{}');
  return JSON.parse(body) as { result?: unknown; error?: { code: number; message: string; data?: unknown } };
}

function retry(headers: Record<string, string>, warden: RunningWarden, state: string, args: Record<string, unknown>): Promise<RawResponse> {
  return send(warden.mcpUrl, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'confirm_action', arguments: args, requestState: state, inputResponses: { confirm: { action: 'accept', content: { confirm: true } } } },
    }),
  });
}

const ARGS = { action: 'rotate', target: 'signing-key-1' };

describe('confirm_action with the official v2 client on 2025 sessions', () => {
  const warden = useSharedWarden();

  it('is listed as a destructive tool with its schema', async () => {
    const { client } = await v2Client(warden);
    try {
      const tool = (await client.listTools()).tools.find((candidate) => candidate.name === 'confirm_action');
      expect(tool?.annotations).toMatchObject({ destructiveHint: true, readOnlyHint: false });
      expect(tool?.inputSchema).toMatchObject({ properties: { action: { enum: ['delete', 'rotate'] } }, required: ['action', 'target'] });
    } finally {
      await client.close();
    }
  });

  it('accepted: the client is asked through a real elicitation/create and the action is confirmed', async () => {
    const { client, asked } = await v2Client(warden, { action: 'accept', content: { confirm: true } });
    try {
      const result = await client.callTool({ name: 'confirm_action', arguments: { action: 'delete', target: 'db-1' } });
      expect((result as { isError?: boolean }).isError).toBeFalsy();
      expect(text(result)).toBe('Confirmed: would delete db-1');
      expect(asked).toEqual(["Confirm: delete db-1? (mcp-warden's confirm_action changes nothing.)"]);
    } finally {
      await client.close();
    }
  });

  it('declined, or accepted without confirm: true: cancelled, nothing done', async () => {
    for (const answer of [{ action: 'decline' }, { action: 'cancel' }, { action: 'accept', content: { confirm: false } }] as const) {
      const { client, asked } = await v2Client(warden, answer);
      try {
        const result = await client.callTool({ name: 'confirm_action', arguments: { action: 'rotate', target: 'key-7' } });
        expect((result as { isError?: boolean }).isError, answer.action).toBeFalsy();
        expect(text(result), answer.action).toBe('Cancelled: rotate key-7 was not confirmed; nothing was done');
        expect(asked).toHaveLength(1);
      } finally {
        await client.close();
      }
    }
  });

  it('a client that did not declare elicitation gets a tool error and is never asked', async () => {
    const { client } = await v2Client(warden);
    let asked = 0;
    client.fallbackRequestHandler = async () => {
      asked++;
      return {};
    };
    try {
      const result = await client.callTool({ name: 'confirm_action', arguments: { action: 'delete', target: 'db-1' } });
      expect(result).toMatchObject({ isError: true });
      expect(text(result)).toBe('confirm_action needs a client that supports elicitation; this client did not declare it');
      expect(asked).toBe(0);
    } finally {
      await client.close();
    }
    expect(await stillServing(warden)).toBe(true);
  });

  it('on the shared engine each session is asked by its own declaration, whoever initialized last', async () => {
    const declaring = await v2Client(warden, { action: 'accept', content: { confirm: true } });
    const silent = await v2Client(warden); // initialized after: the SDK's instance state now says "no elicitation"
    try {
      const confirmed = await declaring.client.callTool({ name: 'confirm_action', arguments: { action: 'delete', target: 'a' } });
      expect(text(confirmed)).toBe('Confirmed: would delete a');
      const again = await v2Client(warden, { action: 'accept', content: { confirm: true } }); // and now "elicitation"
      try {
        const refused = await silent.client.callTool({ name: 'confirm_action', arguments: { action: 'delete', target: 'b' } });
        expect(text(refused)).toBe('confirm_action needs a client that supports elicitation; this client did not declare it');
      } finally {
        await again.client.close();
      }
    } finally {
      await declaring.client.close();
      await silent.client.close();
    }
  });
});

/** A v2 client pinned to 2026-07-28; with `answer`, it declares elicitation and answers each one so. */
async function modernClient(warden: RunningWarden, answer?: ElicitAnswer): Promise<{ client: Client; asked: string[] }> {
  const transport = new StreamableHTTPClientTransport(new URL(warden.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${warden.key}` } } });
  const client = new Client(
    { name: 'confirm-modern', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } }, ...(answer === undefined ? {} : { capabilities: { elicitation: { form: {} } } }) },
  );
  const asked: string[] = [];
  if (answer !== undefined) {
    client.setRequestHandler('elicitation/create', (request) => {
      asked.push(String((request.params as { message?: unknown }).message));
      return answer;
    });
  }
  await client.connect(transport);
  expect(client.getProtocolEra()).toBe('modern');
  return { client, asked };
}

/** One raw 2026-07-28 `tools/call confirm_action` as `key`, declaring `capabilities`. */
function modernCall(warden: RunningWarden, key: string, params: Record<string, unknown>, capabilities: Record<string, unknown> = { elicitation: {} }): Promise<RawResponse> {
  return send(warden.mcpUrl, {
    method: 'POST',
    headers: modernHeaders(key, 'tools/call', 'confirm_action'),
    body: modernBody(11, 'tools/call', { name: 'confirm_action', ...params }, capabilities),
  });
}

describe('confirm_action on 2026-07-28 (the client fulfils input_required and retries)', () => {
  const warden = useSharedWarden({ options: { apiKeys: [TEST_KEY, OTHER_KEY] } });

  it('the pinned v2 client is asked and the retry with the sealed requestState is confirmed; declined is cancelled', async () => {
    const yes = await modernClient(warden, { action: 'accept', content: { confirm: true } });
    const no = await modernClient(warden, { action: 'decline' });
    try {
      expect(text(await yes.client.callTool({ name: 'confirm_action', arguments: { action: 'delete', target: 'db-1' } }))).toBe('Confirmed: would delete db-1');
      expect(yes.asked).toEqual(["Confirm: delete db-1? (mcp-warden's confirm_action changes nothing.)"]);
      expect(text(await no.client.callTool({ name: 'confirm_action', arguments: { action: 'rotate', target: 'k' } }))).toBe('Cancelled: rotate k was not confirmed; nothing was done');
    } finally {
      await Promise.all([yes.client.close(), no.client.close()]);
    }
  });

  it('a request whose _meta declares no elicitation gets the tool error, never an inputRequests entry', async () => {
    const response = await modernCall(warden, TEST_KEY, { arguments: { action: 'delete', target: 'db-1' } }, {});
    expect(response.status).toBe(200);
    expect(answerOf(response).result).toMatchObject({ resultType: 'complete', isError: true, content: [{ text: 'confirm_action needs a client that supports elicitation; this client did not declare it' }] });
    expect(response.text).not.toContain('inputRequests');
  });

  it('the state the server hands out works only for its key, tool and arguments', async () => {
    const first = await modernCall(warden, TEST_KEY, { arguments: ARGS });
    expect(first.status).toBe(200);
    const asked = answerOf(first).result as { resultType: string; inputRequests: Record<string, { method: string }>; requestState: string };
    expect(asked.resultType).toBe('input_required');
    expect(asked.inputRequests['confirm']?.method).toBe('elicitation/create');
    expect(asked.requestState).toMatch(/^v1\./);
    const accept = { confirm: { action: 'accept', content: { confirm: true } } };
    for (const [label, key, args] of [
      ['another key', OTHER_KEY, ARGS],
      ['other arguments', TEST_KEY, { ...ARGS, target: 'signing-key-2' }],
    ] as const) {
      const replayed = await modernCall(warden, key, { arguments: args, requestState: asked.requestState, inputResponses: accept });
      expect(replayed.status, label).toBe(200);
      expect(answerOf(replayed).error, label).toEqual(FROZEN);
    }
    const retried = await modernCall(warden, TEST_KEY, { arguments: ARGS, requestState: asked.requestState, inputResponses: accept });
    expect(answerOf(retried).result).toMatchObject({ resultType: 'complete', content: [{ text: 'Confirmed: would rotate signing-key-1' }] });
    expect(await stillServing(warden)).toBe(true);
  });
});

describe('confirm_action in --stateless mode (no session: nobody could be asked)', () => {
  it('answers the tool error, never an elicitation, and the server serves on', async () => {
    const warden = await useWarden({ options: { stateless: true } });
    const response = await send(warden.mcpUrl, {
      method: 'POST',
      headers: mcpHeaders(warden.key, { 'mcp-protocol-version': '2025-11-25' }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'confirm_action', arguments: { action: 'delete', target: 'x' } } }),
    });
    expect(response.status).toBe(200);
    expect(response.text).not.toContain('elicitation/create');
    expect(answerOf(response).result).toMatchObject({ isError: true, content: [{ text: 'confirm_action needs a client that supports elicitation; this client did not declare it' }] });
    const health = await send(`${warden.url}/health`);
    expect(health.status).toBe(200);
  });
});

describe('a retry carrying requestState, on a 2025 session', () => {
  const clock = manualClock();
  const warden = useSharedWarden({ options: { apiKeys: [TEST_KEY, OTHER_KEY], requestStateTtl: 60 }, clock: clock.now, logLevel: 'debug' });

  function mintFor(key: string, args: Record<string, unknown>): string {
    return warden.server.requestState.codec.mint({ step: 'confirm' }, { principal: { kind: 'api-key', id: keyFingerprint(key) }, method: 'tools/call', name: 'confirm_action', arguments: args });
  }

  it('a state sealed for this key, tool and arguments is accepted: confirmed in one round', async () => {
    const headers = await rawSession(warden, TEST_KEY);
    const response = await retry(headers, warden, mintFor(TEST_KEY, ARGS), ARGS);
    expect(response.status).toBe(200);
    expect(answerOf(response).result).toMatchObject({ content: [{ type: 'text', text: 'Confirmed: would rotate signing-key-1' }] });
  });

  for (const [label, state, key, args, reason] of [
    ['a forged state', () => 'v1.eyJwIjp7fX0.AAAAAAAA.' + 'A'.repeat(43), TEST_KEY, ARGS, 'tag'],
    ["another key's state", () => mintFor(OTHER_KEY, ARGS), TEST_KEY, ARGS, 'principal'],
    ['a state for other arguments', () => mintFor(TEST_KEY, { ...ARGS, target: 'signing-key-2' }), TEST_KEY, ARGS, 'arguments'],
    ['an oversized state', () => 'v1.' + 'A'.repeat(5000), TEST_KEY, ARGS, 'oversized'],
  ] as const) {
    it(`${label} gets HTTP 200 with the frozen -32602 (reason "${reason}" only in the log), and the server serves on`, async () => {
      const headers = await rawSession(warden, key);
      const before = warden.logs().length;
      const response = await retry(headers, warden, state(), args);
      expect(response.status).toBe(200);
      expect(answerOf(response)).toMatchObject({ jsonrpc: '2.0', id: 7, error: FROZEN });
      expect(answerOf(response).error).toEqual(FROZEN);
      expect(response.text).not.toContain(`"${reason}"`);
      const logged = warden.logs().slice(before).find((line) => line['msg'] === 'requestState refused');
      expect(logged).toMatchObject({ reason, mcpMethod: 'tools/call', level: 20 });
      expect(await stillServing(warden)).toBe(true);
    });
  }

  it('an expired state (manual clock past --request-state-ttl) gets the frozen -32602', async () => {
    const headers = await rawSession(warden, TEST_KEY);
    const state = mintFor(TEST_KEY, ARGS);
    clock.advance(59_999);
    expect(answerOf(await retry(headers, warden, state, ARGS)).result).toMatchObject({ content: [{ text: 'Confirmed: would rotate signing-key-1' }] });
    clock.advance(1);
    const before = warden.logs().length;
    const response = await retry(headers, warden, state, ARGS);
    expect(response.status).toBe(200);
    expect(answerOf(response).error).toEqual(FROZEN);
    expect(warden.logs().slice(before).find((line) => line['msg'] === 'requestState refused')).toMatchObject({ reason: 'expired' });
    expect(await stillServing(warden)).toBe(true);
  });
});

/** The README's library example: `purge` asks before it "purges". */
function purgeServer({ requestState }: FactoryContext): McpServer {
  const server = requestState.bind(new McpServer({ name: 'ops', version: '1.0.0' }, { requestState: { verify: requestState.verify } }));
  server.registerTool('purge', { inputSchema: z.object({ bucket: z.string() }) }, ({ bucket }, ctx) => {
    const answer = inputResponse(ctx.mcpReq.inputResponses, 'ok');
    if (ctx.mcpReq.requestState() === undefined || answer.kind !== 'elicit') {
      return inputRequired({
        inputRequests: { ok: inputRequired.elicit({ message: `Purge ${bucket}?`, requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } }) },
        requestState: requestState.mint({ step: 'ask' }, ctx),
      });
    }
    return { content: [{ type: 'text', text: answer.action === 'accept' && answer.content?.['ok'] === true ? 'purged' : 'kept' }] };
  });
  return server;
}

describe('a library server using the factory context codec (the README example)', () => {
  it('asks through the legacy shim and completes, with the codec warden.requestState exposes', async () => {
    let seen: FactoryContext['requestState'] | undefined;
    const warden = await useWarden({
      mcpServer: (context) => {
        seen = context.requestState;
        return purgeServer(context);
      },
    });
    expect(seen).toBe(warden.server.requestState);
    const transport = new StreamableHTTPClientTransport(new URL(warden.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${warden.key}` } } });
    const client = new Client({ name: 'lib', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
    client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: { ok: true } }));
    await client.connect(transport);
    try {
      expect(text(await client.callTool({ name: 'purge', arguments: { bucket: 'logs' } }))).toBe('purged');
    } finally {
      await client.close();
    }
  });
});

describe('the requestState secret', () => {
  it('without MCP_SHARED_SECRET: a random one, said once at info; with it: no such line', async () => {
    const alone = await useWarden();
    expect(alone.logs().filter((line) => String(line['msg']).startsWith('requestState of multi round-trip tools is valid on this process only'))).toHaveLength(1);
    const shared = await useWarden({ options: { sharedSecret: 'shared-secret-0123456789abcdefghijklmnop' } });
    expect(shared.logText()).not.toContain('valid on this process only');
  });

  it("replicas with the same shared secret accept each other's state; a rotated one still accepts the previous secret's until it is dropped", async () => {
    const S1 = 'shared-secret-one-0123456789abcdefghijkl';
    const S2 = 'shared-secret-two-0123456789abcdefghijkl';
    const a = await useWarden({ options: { sharedSecret: S1 } });
    const b = await useWarden({ options: { sharedSecret: S2, sharedSecretPrevious: S1 } });
    const c = await useWarden({ options: { sharedSecret: S2 } });
    const binding = { principal: { kind: 'api-key', id: keyFingerprint(TEST_KEY) } as const, method: 'tools/call', name: 'confirm_action', arguments: ARGS };
    const state = a.server.requestState.codec.mint({ step: 'confirm' }, binding);
    const onB = await retry(await rawSession(b, TEST_KEY), b, state, ARGS);
    expect(answerOf(onB).result).toMatchObject({ content: [{ text: 'Confirmed: would rotate signing-key-1' }] });
    const onC = await retry(await rawSession(c, TEST_KEY), c, state, ARGS);
    expect(answerOf(onC).error).toEqual(FROZEN);
  });
});
