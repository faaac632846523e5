/**
 * The conformance fixture served by the SDK's own documented setup, to tell a fixture problem
 * from an mcp-warden one: `createMcpHandler(factory)` (a fresh server per request, SDK
 * subscriptions/listen router, `legacy: 'stateless'` for 2025 traffic) wrapped with
 * `toNodeHandler` on `node:http`, behind the SDK's `localhostHostValidation()` (createMcpHandler
 * itself checks no Host, and a loopback server must, which `dns-rebinding-protection` asserts).
 * No authentication: the SDK handler has none.
 */

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { localhostHostValidation, toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, type McpHttpHandler } from '@modelcontextprotocol/server';
import { conformanceServer } from './fixture-server.js';

export interface SdkReference {
  /** `http://127.0.0.1:<port>/mcp`. */
  readonly mcpUrl: string;
  close(): Promise<void>;
}

/** Starts the reference on an ephemeral loopback port; the trigger tools publish on the handler's bus. */
export async function startSdkReference(): Promise<SdkReference> {
  const handler: McpHttpHandler = createMcpHandler(() => conformanceServer({ notify: { toolsChanged: () => handler.notify.toolsChanged(), promptsChanged: () => handler.notify.promptsChanged() } }));
  const serve = toNodeHandler(handler);
  const hostAllowed = localhostHostValidation();
  const server = http.createServer((request, response) => {
    if (hostAllowed(request, response)) void serve(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    mcpUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    close: async () => {
      await handler.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
