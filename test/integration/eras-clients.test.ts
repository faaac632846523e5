/**
 * Both eras at once, with the real clients: the v2 client pinned to 2026-07-28, the v2 client in
 * `auto` mode and the v1 client (2025 session) against one running server concurrently; one
 * modern client served alternately, request by request, by two replicas sharing a real Redis;
 * and `--stateless` mode serving both eras.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { TEST_SHARED_SECRET, useRedis } from '../helpers/redis.js';
import { connectClient, startWarden, stillServing, TEST_KEY, useSharedWarden, type RunningWarden } from '../helpers/warden.js';

type TextContent = { type: 'text'; text: string };

function text(result: object): string {
  return ((result as { content?: TextContent[] }).content ?? [])[0]?.text ?? '';
}

async function v2Client(url: string, key: string, mode: 'pin' | 'auto', fetchImpl?: typeof fetch): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
    ...(fetchImpl === undefined ? {} : { fetch: fetchImpl }),
  });
  const client = new Client({ name: `v2-${mode}`, version: '1.0.0' }, { versionNegotiation: { mode: mode === 'pin' ? { pin: '2026-07-28' } : 'auto' } });
  await client.connect(transport);
  return { client, transport };
}

describe('v2 pinned, v2 auto and v1 clients against one server at once', () => {
  let warden: RunningWarden;
  beforeAll(async () => {
    warden = await startWarden();
  });
  afterAll(async () => {
    await warden.stop();
  });

  it('each gets its own era and correct answers while all three call tools concurrently', async () => {
    const pinned = await v2Client(warden.mcpUrl, warden.key, 'pin');
    const auto = await v2Client(warden.mcpUrl, warden.key, 'auto');
    const v1 = await connectClient(warden);
    try {
      expect(pinned.client.getProtocolEra()).toBe('modern');
      expect(auto.client.getProtocolEra()).toBe('modern');
      expect(pinned.transport.sessionId).toBeUndefined();
      expect(v1.transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
      const rounds = 20;
      const calls: Array<Promise<[string, string]>> = [];
      for (let i = 0; i < rounds; i++) {
        calls.push(pinned.client.callTool({ name: 'calculate', arguments: { expression: `${i}*2` } }).then((r) => [text(r), String(i * 2)]));
        calls.push(auto.client.callTool({ name: 'echo', arguments: { text: `auto-${i}` } }).then((r) => [text(r), `auto-${i}`]));
        calls.push(v1.client.callTool({ name: 'echo', arguments: { text: `v1-${i}` } }).then((r) => [text(r as object), `v1-${i}`]));
      }
      const answers = await Promise.all(calls);
      for (const [got, want] of answers) expect(got).toBe(want);
      expect(answers).toHaveLength(rounds * 3);
    } finally {
      await Promise.all([pinned.client.close(), auto.client.close(), v1.client.close()]);
    }
    expect(await stillServing(warden)).toBe(true);
  });
});

describe('one modern client served alternately by two replicas on Redis', () => {
  const redis = useRedis();
  const replica = () => ({ options: { redisUrl: redis.server.url, sharedSecret: TEST_SHARED_SECRET, redisPrefix: 'eras:' } });
  const a = useSharedWarden(replica);
  const b = useSharedWarden(replica);

  it('every request goes to the other replica than the one before, and all are answered', async () => {
    const hits = { a: 0, b: 0 };
    let next = 0;
    // The client believes it talks to one URL; each request is sent to A and B in turn.
    const alternating: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const target = next++ % 2 === 0 ? a : b;
      hits[target === a ? 'a' : 'b']++;
      url.host = new URL(target.url).host;
      return fetch(url, init);
    };
    const { client } = await v2Client(a.mcpUrl, TEST_KEY, 'pin', alternating);
    try {
      expect(client.getProtocolEra()).toBe('modern');
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain('calculate');
      for (let i = 0; i < 10; i++) expect(text(await client.callTool({ name: 'calculate', arguments: { expression: `${i}+1` } }))).toBe(String(i + 1));
    } finally {
      await client.close();
    }
    expect(hits.a).toBeGreaterThanOrEqual(5);
    expect(hits.b).toBeGreaterThanOrEqual(5);
  });
});

describe('stateless mode serves both eras', () => {
  let warden: RunningWarden;
  beforeAll(async () => {
    warden = await startWarden({ options: { stateless: true } });
  });
  afterAll(async () => {
    await warden.stop();
  });

  it('the pinned v2 client and a 2025 client both list and call tools', async () => {
    const pinned = await v2Client(warden.mcpUrl, warden.key, 'pin');
    const v1 = await connectClient(warden);
    try {
      expect(pinned.client.getProtocolEra()).toBe('modern');
      expect(text(await pinned.client.callTool({ name: 'calculate', arguments: { expression: '6*7' } }))).toBe('42');
      expect(v1.transport.sessionId).toBeUndefined();
      expect(text((await v1.client.callTool({ name: 'echo', arguments: { text: 'stateless 2025' } })) as object)).toBe('stateless 2025');
      expect((await pinned.client.listTools()).tools.length).toBe(6);
    } finally {
      await Promise.all([pinned.client.close(), v1.client.close()]);
    }
  });
});
