/**
 * The SDK version mcp-warden serves: a library server built with SDK v1 is refused at
 * `createServer` with `WARDEN_ERR_UNSUPPORTED_SDK` naming the README's migration section (which must
 * exist), SDK v2 servers pass, and the SDK v2 internals the transport relies on are still there
 * (`McpServer.createToolError`, replaced by `mcp/harden`; `Server._loggingLevels`, keyed by
 * session id and pruned by `forgetSession`).
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { McpServer as V1McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Server as V1Server } from '@modelcontextprotocol/sdk/server/index.js';
import { InMemoryTransport, McpServer, Server, type JSONRPCMessage } from '@modelcontextprotocol/server';
import { createServer } from '../../src/server.js';
import { isWardenError } from '../../src/errors.js';
import { MIGRATION_ANCHOR, isV1Server, isV2Server } from '../../src/mcp/sdk-version.js';
import { createBuiltinServer } from '../../src/mcp/builtin-server.js';
import { useWarden } from '../helpers/warden.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** GitHub's heading anchor: lower case, spaces to dashes, punctuation dropped. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
}

describe('SDK v1 servers are refused, SDK v2 servers served', () => {
  it('tells v1 from v2 servers; other ServerLike objects are neither', () => {
    expect(isV1Server(new V1McpServer({ name: 'v1', version: '1.0.0' }))).toBe(true);
    expect(isV1Server(new V1Server({ name: 'v1', version: '1.0.0' }, { capabilities: {} }))).toBe(true);
    expect(isV1Server(new McpServer({ name: 'v2', version: '1.0.0' }))).toBe(false);
    expect(isV2Server(new McpServer({ name: 'v2', version: '1.0.0' }))).toBe(true);
    expect(isV2Server(new Server({ name: 'v2', version: '1.0.0' }, { capabilities: {} }))).toBe(true);
    const structural = { connect: async () => undefined, close: async () => undefined };
    expect(isV1Server(structural)).toBe(false);
  });

  for (const [label, build] of [
    ['a v1 McpServer', () => new V1McpServer({ name: 'old', version: '1.0.0' })],
    ['a v1 low-level Server', () => new V1Server({ name: 'old', version: '1.0.0' }, { capabilities: { tools: {} } })],
  ] as const) {
    it(`createServer rejects ${label} with WARDEN_ERR_UNSUPPORTED_SDK pointing to the README migration section`, async () => {
      let calls = 0;
      const outcome = await createServer({
        options: { apiKeys: ['k-0123456789abcdefghijklmnopqrstuvwxyz0'], port: 0 },
        // The factory's type takes v2 servers; a v1 user's code reaches us through a cast or plain JS.
        mcpServer: (() => {
          calls++;
          return build();
        }) as never,
      }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isWardenError(outcome)).toBe(true);
      const error = outcome as { code: string; message: string };
      expect(error.code).toBe('WARDEN_ERR_UNSUPPORTED_SDK');
      expect(error.message).toContain('@modelcontextprotocol/sdk');
      expect(error.message).toContain(MIGRATION_ANCHOR);
      expect(calls).toBe(1);
    });
  }

  it('the migration section the error names exists in the README', () => {
    const headings = [...README.matchAll(/^#{2,4} (.+)$/gm)].map((match) => anchorOf(match[1] ?? ''));
    expect(headings).toContain(MIGRATION_ANCHOR.slice('README#'.length));
  });

  it('createServer\'s check call is not wasted: its server becomes the modern engine (one more call for the tool catalog)', async () => {
    let calls = 0;
    const warden = await useWarden({
      mcpServer: () => {
        calls++;
        return createBuiltinServer({ status: () => ({}) as never, configSummary: () => ({}) });
      },
    });
    // createServer's check call (its product becomes the long-lived 2026-07-28 engine) and the tool catalog's.
    expect(calls).toBe(2);
    expect(warden.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
  });
});

describe('SDK v2 internals mcp-warden relies on (pinned ~2.4.0)', () => {
  it('McpServer still builds tool errors through an overridable createToolError', () => {
    const server = new McpServer({ name: 'x', version: '1.0.0' }) as unknown as { createToolError?: unknown };
    expect(typeof server.createToolError).toBe('function');
  });

  it('Server still keeps logging/setLevel per session id in _loggingLevels (what forgetSession prunes)', async () => {
    const server = createBuiltinServer({ status: () => ({}) as never, configSummary: () => ({}) });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    serverSide.sessionId = 'session-a';
    const answers = new Map<unknown, JSONRPCMessage>();
    clientSide.onmessage = (message) => {
      if ('id' in message) answers.set(message.id, message);
    };
    await server.connect(serverSide);
    await clientSide.start();
    try {
      await clientSide.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
      await clientSide.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      await clientSide.send({ jsonrpc: '2.0', id: 2, method: 'logging/setLevel', params: { level: 'debug' } });
      await expect.poll(() => answers.has(2)).toBe(true);
      const levels = (server.server as unknown as { _loggingLevels?: Map<unknown, unknown> })._loggingLevels;
      expect(levels).toBeInstanceOf(Map);
      expect(levels?.get('session-a')).toBe('debug');
    } finally {
      await server.close();
    }
  });
});
