/**
 * The official SDK v2 client (`@modelcontextprotocol/client`, default `legacy` version
 * negotiation) against the real server: it opens a 2025-era session (initialize, session id),
 * lists and calls every built-in tool, and is refused with 401 without a key.
 */

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, SdkHttpError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { SUPPORTED_PROTOCOL_VERSIONS } from '../../src/mcp/protocol-versions.js';
import { startWarden, stillServing, type RunningWarden } from '../helpers/warden.js';

type TextContent = { type: 'text'; text: string };

function text(result: object): string {
  return ((result as { content?: TextContent[] }).content ?? [])[0]?.text ?? '';
}

function v2Client(warden: RunningWarden, key: string | undefined): { client: Client; transport: StreamableHTTPClientTransport } {
  const transport = new StreamableHTTPClientTransport(new URL(warden.mcpUrl), {
    requestInit: key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } },
  });
  // It declares elicitation (and accepts every confirmation) so that confirm_action can ask it.
  const client = new Client({ name: 'v2-client-test', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: { confirm: true } }));
  return { client, transport };
}

describe('official SDK v2 client, default negotiation (2025-era session)', () => {
  let warden: RunningWarden;
  let client: Client;
  let transport: StreamableHTTPClientTransport;

  beforeAll(async () => {
    warden = await startWarden();
    ({ client, transport } = v2Client(warden, warden.key));
    await client.connect(transport);
  });

  afterAll(async () => {
    await client.close();
    await warden.stop();
  });

  it('negotiates a 2025 revision over initialize and gets a session id', () => {
    expect(client.getProtocolEra()).toBe('legacy');
    expect(SUPPORTED_PROTOCOL_VERSIONS).toContain(client.getNegotiatedProtocolVersion());
    expect(client.getNegotiatedProtocolVersion()).toMatch(/^2025-/);
    expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(client.getServerVersion()?.name).toBe('mcp-warden');
  });

  it('lists every built-in tool and calls each one', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name).sort();
    expect(names).toEqual(['calculate', 'confirm_action', 'current_time', 'echo', 'hash_text', 'server_status', 'system_info']);

    const calls: Record<string, Record<string, unknown>> = {
      calculate: { expression: '2 * (3 + 4)' },
      confirm_action: { action: 'delete', target: 'nothing-real' },
      system_info: {},
      server_status: {},
      echo: { text: 'hello v2' },
      current_time: { timezone: 'Europe/Paris' },
      hash_text: { text: 'abc', algorithm: 'sha256', encoding: 'hex' },
    };
    expect(Object.keys(calls).sort()).toEqual(names);
    const results = new Map<string, object>();
    for (const name of names) {
      const result = await client.callTool({ name, arguments: calls[name] ?? {} });
      expect((result as { isError?: boolean }).isError, name).toBeFalsy();
      results.set(name, result);
    }
    expect(text(results.get('calculate') ?? {})).toBe('14');
    expect(text(results.get('confirm_action') ?? {})).toBe('Confirmed: would delete nothing-real');
    expect(text(results.get('echo') ?? {})).toBe('hello v2');
    expect(text(results.get('hash_text') ?? {})).toBe(createHash('sha256').update('abc').digest('hex'));
    expect(JSON.parse(text(results.get('current_time') ?? {}))).toMatchObject({ timezone: 'Europe/Paris' });
    expect(JSON.parse(text(results.get('system_info') ?? {}))).toHaveProperty('nodeVersion', process.version);
    expect(JSON.parse(text(results.get('server_status') ?? {}))).toHaveProperty('uptimeSeconds');
  });

  it('is refused with 401 without a key, and the server still serves', async () => {
    const anonymous = v2Client(warden, undefined);
    const failure = await anonymous.client.connect(anonymous.transport).then(
      () => undefined,
      (error: unknown) => error,
    );
    await anonymous.client.close();
    expect(failure).toBeInstanceOf(SdkHttpError);
    expect((failure as SdkHttpError).status).toBe(401);
    expect((failure as SdkHttpError).message).toContain('-32000');
    expect(await stillServing(warden)).toBe(true);
  });
});
