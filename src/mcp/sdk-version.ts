/**
 * @module mcp/sdk-version
 * mcp-warden serves MCP servers built with SDK v2 (`@modelcontextprotocol/server`). A server built
 * with SDK v1 (`@modelcontextprotocol/sdk`) has no 2026-07-28 codec and different handler
 * contexts, so it is refused with a clear error (pointing to the README's migration section)
 * instead of half working. {@link checkedFactory} checks the factory's first product once, when
 * the server is created, and every later product as it is built; the first product is kept and
 * handed to the first engine that asks for one (no extra instance).
 */

import { McpServer, Server } from '@modelcontextprotocol/server';
import { WardenError } from '../errors.js';
import { ANONYMOUS } from '../security/identity.js';
import type { ServerFactory, ServerLike, SessionContext } from './sessions.js';

/** The README section a refused v1 server is sent to. */
export const MIGRATION_ANCHOR = 'README#migrating-a-library-server-from-sdk-v1-to-v2';

const V1_MESSAGE =
  `mcpServer returned a server built with @modelcontextprotocol/sdk (SDK v1); mcp-warden serves SDK v2 servers ` +
  `(McpServer from @modelcontextprotocol/server). See ${MIGRATION_ANCHOR}.`;

function hasFunction(value: unknown, name: string): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[name] === 'function';
}

/**
 * True for SDK v2 servers: instances of `McpServer`/`Server` from `@modelcontextprotocol/server`,
 * also when they come from another copy of the package (recognised by v2-only methods).
 */
export function isV2Server(product: unknown): boolean {
  if (product instanceof McpServer || product instanceof Server) return true;
  // Another copy of the v2 package (CJS/ESM twin, a nested install): methods v1 never had.
  return hasFunction(product, 'toolInputSchemaJson') || hasFunction(product, 'projectCallToolResult');
}

/** True for what looks like an SDK server that is not v2 (an SDK v1 `McpServer` or `Server`). */
export function isV1Server(product: unknown): boolean {
  if (isV2Server(product)) return false;
  const inner = typeof product === 'object' && product !== null ? (product as { server?: unknown }).server : undefined;
  return hasFunction(product, 'setRequestHandler') || (hasFunction(product, 'registerTool') && hasFunction(inner, 'setRequestHandler'));
}

/**
 * Throws `WARDEN_ERR_UNSUPPORTED_SDK` when `product` is an SDK v1 server. Other structural `ServerLike`
 * objects (anything with `connect`/`close` that is no SDK server) pass.
 */
export function assertNotV1Server(product: unknown): void {
  if (isV1Server(product)) throw new WardenError('WARDEN_ERR_UNSUPPORTED_SDK', { message: V1_MESSAGE, reason: 'sdk_v1_server' });
}

/**
 * Calls `factory` once (as the long-lived 2026-07-28 engine is built: no session, the anonymous
 * principal, `era: 'modern'`), refuses an SDK v1 product, and returns a factory that checks
 * every product and hands this first one to the modern engine when it is built.
 */
export async function checkedFactory(factory: ServerFactory): Promise<ServerFactory> {
  const first = await factory({ sessionId: undefined, principal: ANONYMOUS, era: 'modern' });
  assertNotV1Server(first);
  let spare: ServerLike | undefined = first;
  return async (context: SessionContext) => {
    if (spare !== undefined && context.era === 'modern') {
      const product = spare;
      spare = undefined;
      return product;
    }
    const product = await factory(context);
    assertNotV1Server(product);
    return product;
  };
}
