/**
 * The gateway end to end: `mcpServers` entries for the real npm servers and the local fixture
 * (spawned with `process.execPath`, no npx), and the official clients of both eras connected to
 * a running mcp-warden (the v1 SDK client in a 2025 session, the v2 client pinned to 2026-07-28).
 */

import { fileURLToPath } from 'node:url';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import { onTestFinished } from 'vitest';
import { serverBin, type ServerPackage } from './upstreams.js';

export const GATEWAY_FIXTURE = fileURLToPath(new URL('../gateway/fixtures/gateway-upstream.mjs', import.meta.url));

/** An `mcpServers` entry running an npm server package over stdio. */
export function npmServer(pkg: ServerPackage, args: string[] = [], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { command: process.execPath, args: [serverBin(pkg), ...args], ...extra };
}

/** An `mcpServers` entry running the local fixture (`FIXTURE_DESCRIPTION` from `description`). */
export function fixtureServer(description = 'A fixture tool', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { command: process.execPath, args: [GATEWAY_FIXTURE], env: { FIXTURE_DESCRIPTION: description }, ...extra };
}

/** The first text content of a tool result. */
export function text(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.find((item) => item.type === 'text')?.text ?? '';
}

/** The v1 SDK client in a 2025 session on `url` (closed when the test finishes). */
export async function legacyClient(url: string, key: string, capabilities: Record<string, unknown> = {}): Promise<{ client: V1Client; transport: V1Transport }> {
  const transport = new V1Transport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${key}` } } });
  const client = new V1Client({ name: 'gateway-test-v1', version: '1.0.0' }, { capabilities });
  await client.connect(transport);
  // Ends the session (DELETE), so its children go at once rather than at its idle timeout.
  onTestFinished(async () => {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  });
  return { client, transport };
}

/** The v2 client pinned to 2026-07-28 on `url` (closed when the test finishes). */
export async function modernClient(url: string, key: string): Promise<V2Client> {
  const transport = new V2Transport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
  const client = new V2Client({ name: 'gateway-test-v2', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(transport);
  onTestFinished(() => client.close());
  return client;
}

/** The JSON-RPC error a client call rejected with (code and message). */
export async function rpcError(call: Promise<unknown>): Promise<{ code: number; message: string; data?: unknown }> {
  try {
    await call;
  } catch (error) {
    const { code, message, data } = error as { code?: unknown; message?: unknown; data?: unknown };
    return { code: code as number, message: String(message), data };
  }
  throw new Error('the call did not fail');
}
