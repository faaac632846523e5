/**
 * Server-to-client requests of a real upstream (`@modelcontextprotocol/server-everything` over
 * stdio) relayed to 2026-07-28 clients through `input_required` with our sealed requestState
 * (`gateway/input-rounds`): the official v2 client pinned to 2026-07-28 is asked (elicitation,
 * sampling) and the tool result carries its answer; a client that did not declare the kind gets
 * a tool error and is never asked; forged and foreign-key states get the SDK's frozen -32602; a
 * replayed or expired entry gets WARDEN_ERR_UPSTREAM_INPUT_GONE, the expired one's upstream call
 * cancelled; and the gateway serves on.
 */

import { describe, expect, it, onTestFinished } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { parseGatewayConfig } from '../../src/gateway/config.js';
import type { Gateway } from '../../src/gateway/router.js';
import { manualClock } from '../helpers/clock.js';
import { modernClient, npmServer } from '../helpers/gateway.js';
import { modernBody, modernHeaders, send, type RawResponse } from '../helpers/http.js';
import { until } from '../helpers/wait.js';
import { OTHER_KEY, TEST_KEY, useSharedWarden } from '../helpers/warden.js';

const TTL_S = 60;
const FROZEN = { code: -32602, message: 'Invalid or expired requestState', data: { reason: 'invalid_request_state' } };
const GONE = {
  code: -32602,
  message: 'Invalid params: the upstream request this input answers is no longer waiting (expired, answered or unknown); call the tool again (upstream "everything")',
  data: { warden: 'WARDEN_ERR_UPSTREAM_INPUT_GONE', upstream: 'everything' },
};
const ELICIT = 'everything__trigger-elicitation-request';
const SAMPLE = 'everything__trigger-sampling-request';

const clock = manualClock();
const warden = useSharedWarden(() => ({
  gateway: parseGatewayConfig({ mcpServers: { everything: npmServer('server-everything', ['stdio']) } }, {}),
  options: { apiKeys: [TEST_KEY, OTHER_KEY], requestStateTtl: TTL_S, rateLimit: 10_000 },
  clock: clock.now,
  logLevel: 'debug',
}));

const gateway = (): Gateway => warden.server.gateway as Gateway;

function allText(result: unknown): string {
  return ((result as { content?: Array<{ text?: string }> }).content ?? []).map((item) => item.text ?? '').join('\n');
}

type Answer = { result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } };

function answerOf(response: RawResponse): Answer {
  const body = response.text.startsWith('{') ? response.text : (/^data: (.*)$/m.exec(response.text)?.[1] ?? '{}');
  return JSON.parse(body) as Answer;
}

/** One raw 2026-07-28 tools/call of the elicitation tool as `key`. */
function rawCall(key: string, params: Record<string, unknown> = {}, capabilities: Record<string, unknown> = { elicitation: { form: {} } }): Promise<RawResponse> {
  return send(warden.mcpUrl, {
    method: 'POST',
    headers: modernHeaders(key, 'tools/call', ELICIT),
    body: modernBody(21, 'tools/call', { name: ELICIT, arguments: {}, ...params }, capabilities),
  });
}

const ACCEPT = { upstream: { action: 'accept', content: { name: 'Grace Hopper' } } };

/** The gateway still serves a modern call through the same upstream. */
async function servesOn(): Promise<void> {
  const client = await modernClient(warden.mcpUrl, TEST_KEY);
  expect(allText(await client.callTool({ name: 'everything__echo', arguments: { message: 'still here' } }))).toBe('Echo: still here');
}

describe('upstream requests relayed to 2026-07-28 clients through input_required', () => {
  it('asks the pinned v2 client (elicitation, sampling) and the tool result reflects its answers', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(warden.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${TEST_KEY}` } } });
    const client = new Client(
      { name: 'mrtr-test', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { form: {} }, sampling: {} } },
    );
    const asked: string[] = [];
    client.setRequestHandler('elicitation/create', (request) => {
      asked.push(`elicit: ${String((request.params as { message?: unknown }).message)}`);
      return { action: 'accept', content: { name: 'Ada Lovelace' } };
    });
    client.setRequestHandler('sampling/createMessage', (request) => {
      asked.push(`sample: ${JSON.stringify(request.params.messages[0]?.content)}`);
      return { role: 'assistant', content: { type: 'text', text: 'sampled-answer-42' }, model: 'test-model' };
    });
    await client.connect(transport);
    try {
      expect(client.getProtocolEra()).toBe('modern');
      const elicited = await client.callTool({ name: ELICIT, arguments: {} });
      expect(elicited.isError).not.toBe(true);
      expect(allText(elicited)).toContain('Ada Lovelace');
      const sampled = await client.callTool({ name: SAMPLE, arguments: { prompt: 'what is up', maxTokens: 20 } });
      expect(allText(sampled)).toContain('sampled-answer-42');
      expect(asked).toEqual(['elicit: Please provide inputs for the following fields:', expect.stringContaining('what is up')]);
      expect(gateway().waitingForInput).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('a client that did not declare elicitation gets a clear tool error, is never asked, and the upstream call ends', async () => {
    // It declares sampling only: an elicitation must never reach it (its SDK would fail the call otherwise).
    const transport = new StreamableHTTPClientTransport(new URL(warden.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${TEST_KEY}` } } });
    const client = new Client({ name: 'mrtr-no-elicit', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { sampling: {} } });
    let asked = 0;
    client.setRequestHandler('sampling/createMessage', () => {
      asked++;
      return { role: 'assistant', content: { type: 'text', text: 'unexpected' }, model: 'test-model' };
    });
    await client.connect(transport);
    onTestFinished(() => client.close());
    const result = await client.callTool({ name: ELICIT, arguments: {} });
    expect(result.isError).toBe(true);
    expect(allText(result)).toBe('the upstream "everything" asked for elicitation/create, which this client did not declare; the call was ended');
    expect(asked).toBe(0);
    // Raw: the same answer, and no inputRequests on the wire.
    const raw = await rawCall(TEST_KEY, {}, {});
    expect(raw.status).toBe(200);
    expect(answerOf(raw).result).toMatchObject({ resultType: 'complete', isError: true });
    expect(raw.text).not.toContain('inputRequests');
    expect(await until(() => gateway().load('everything').active === 0, 5000)).toBe(true);
    await servesOn();
  });

  it('a forged or foreign-key requestState gets HTTP 200 with the frozen -32602; a replay gets the clear error; the server serves on', async () => {
    const first = await rawCall(TEST_KEY);
    expect(first.status).toBe(200);
    const asked = answerOf(first).result as { resultType: string; inputRequests: Record<string, { method: string; params: { message: string } }>; requestState: string };
    expect(asked.resultType).toBe('input_required');
    expect(asked.inputRequests['upstream']).toMatchObject({ method: 'elicitation/create', params: { message: 'Please provide inputs for the following fields:' } });
    expect(asked.requestState).toMatch(/^v1\./);
    expect(gateway().waitingForInput).toBe(1);

    for (const [label, key, state] of [
      ['another key', OTHER_KEY, asked.requestState],
      ['a forged state', TEST_KEY, 'v1.eyJwIjp7ImciOiJ4In19.AAAAAAAA.' + 'A'.repeat(43)],
    ] as const) {
      const refused = await rawCall(key, { requestState: state, inputResponses: ACCEPT });
      expect(refused.status, label).toBe(200);
      expect(answerOf(refused).error, label).toEqual(FROZEN);
    }
    expect(gateway().waitingForInput).toBe(1);

    const retried = await rawCall(TEST_KEY, { requestState: asked.requestState, inputResponses: ACCEPT });
    expect(retried.status).toBe(200);
    expect(answerOf(retried).result).toMatchObject({ resultType: 'complete' });
    expect(allText(answerOf(retried).result)).toContain('Grace Hopper');

    const replayed = await rawCall(TEST_KEY, { requestState: asked.requestState, inputResponses: ACCEPT });
    expect(replayed.status).toBe(200);
    expect(answerOf(replayed).error).toEqual(GONE);
    await servesOn();
  });

  it('an entry past the TTL cancels its upstream call; its retry gets the clear error; the server serves on', async () => {
    const first = await rawCall(TEST_KEY);
    const asked = answerOf(first).result as { resultType: string; requestState: string };
    expect(asked.resultType).toBe('input_required');
    expect(gateway().waitingForInput).toBe(1);
    expect(gateway().load('everything').active).toBe(1);
    const before = warden.logs().length;

    clock.advance(TTL_S * 1000);
    await gateway().sweep();
    expect(gateway().waitingForInput).toBe(0);
    // Cancelled by us (the abort's reason), not merely finished by the upstream.
    expect(await until(() => gateway().load('everything').active === 0, 5000)).toBe(true);
    expect(warden.logs().slice(before).find((line) => line['msg'] === 'upstream request failed')).toMatchObject({ code: 'WARDEN_ERR_UPSTREAM_INPUT_GONE', reason: 'expired' });

    // Back within the state's own lifetime, so the codec accepts it and the table answers.
    clock.advance(-TTL_S * 1000);
    const retried = await rawCall(TEST_KEY, { requestState: asked.requestState, inputResponses: ACCEPT });
    expect(retried.status).toBe(200);
    expect(answerOf(retried).error).toEqual(GONE);
    await servesOn();
  });
});
