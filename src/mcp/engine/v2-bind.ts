/**
 * @module mcp/engine/v2-bind
 * Marks a long-lived SDK v2 server instance as serving the 2026-07-28 ("modern") era, so
 * mcp-warden serves every modern request from one instance behind its own transport instead
 * of the SDK's per-request model (`createMcpHandler` calls the factory and binds a fresh
 * instance to a single-use `PerRequestHTTPServerTransport` for every request: ~0.5–0.9 ms
 * each, measured in bench/micro.mjs).
 *
 * Why this is sound: in SDK v2 the era is instance state (`_negotiatedProtocolVersion`), but
 * everything per request is read from the request itself: the `_meta` envelope is lifted per
 * message into `ctx.mcpReq.envelope`, the input-required capability gate and the log-level
 * filter read that envelope on the modern era, abort controllers are keyed by request id
 * (which our link makes unique). The SDK's own `serveStdio` keeps one modern instance for a
 * whole connection in the same way. What stays instance-wide is only the deprecated
 * `getClientCapabilities()`/`getClientVersion()` pair, which we never seed (README: read
 * `ctx.mcpReq.envelope`).
 *
 * The SDK's binding functions (`setNegotiatedProtocolVersion`, `installModernOnlyHandlers`)
 * are package-internal, so this module writes the two fields they write; it is the only
 * module that touches SDK internals for the modern era. `@modelcontextprotocol/server` is
 * pinned `~2.4.0`, and {@link assertModernEngine} runs at every start (and in a unit test), so
 * an SDK release that moves these fields fails loudly at start instead of serving the wrong era.
 */

import { McpServer, Server } from '@modelcontextprotocol/server';
import { MODERN_PROTOCOL_VERSIONS } from '../protocol-versions.js';

/** The SDK `Server` fields this module reads and writes (package-internal in 2.4.0). */
interface ServerInternals {
  _negotiatedProtocolVersion: string | undefined;
  _supportedProtocolVersions: readonly string[];
  _ondiscover(): unknown;
  setRequestHandler(method: 'server/discover', handler: () => unknown): void;
}

/** The low-level SDK server of a product (`McpServer` wraps one), or undefined for anything else. */
export function lowLevelServer(product: unknown): Server | undefined {
  if (product instanceof McpServer) return product.server;
  if (product instanceof Server) return product;
  return undefined;
}

/** Thrown at start when the installed SDK does not have the shape this module relies on. */
export class ModernBindingError extends Error {
  constructor(detail: string) {
    super(`cannot serve MCP 2026-07-28 with the installed @modelcontextprotocol/server (${detail}); mcp-warden is tested with ~2.4.0`);
    this.name = 'ModernBindingError';
  }
}

/**
 * Binds `product` (not yet connected) to the modern era: negotiated version 2026-07-28, the
 * modern revisions in its supported list, and the `server/discover` handler.
 */
export function bindModernEra(product: unknown): Server {
  const server = lowLevelServer(product);
  if (server === undefined) throw new ModernBindingError('the factory did not return an McpServer or Server from @modelcontextprotocol/server');
  const internals = server as unknown as ServerInternals;
  if (!Array.isArray(internals._supportedProtocolVersions) || typeof internals._ondiscover !== 'function' || !('_negotiatedProtocolVersion' in server)) {
    throw new ModernBindingError('Server._supportedProtocolVersions/_ondiscover/_negotiatedProtocolVersion not found');
  }
  const missing = MODERN_PROTOCOL_VERSIONS.filter((version) => !internals._supportedProtocolVersions.includes(version));
  if (missing.length > 0) internals._supportedProtocolVersions = [...internals._supportedProtocolVersions, ...missing];
  internals._negotiatedProtocolVersion = MODERN_PROTOCOL_VERSIONS[0];
  internals.setRequestHandler('server/discover', () => internals._ondiscover());
  return server;
}

/**
 * Checks the answer of the start-up `server/discover` round trip: a modern result
 * (`resultType`), listing 2026-07-28. Throws {@link ModernBindingError} otherwise.
 */
export function assertModernEngine(discoverResponse: unknown): void {
  const result = (discoverResponse as { result?: { resultType?: unknown; supportedVersions?: unknown } } | undefined)?.result;
  if (result === undefined) throw new ModernBindingError(`server/discover answered ${JSON.stringify(discoverResponse)?.slice(0, 200)}`);
  if (result.resultType !== 'complete') throw new ModernBindingError('server/discover result has no resultType: the instance is not serving the modern era');
  const versions = result.supportedVersions;
  if (!Array.isArray(versions) || !MODERN_PROTOCOL_VERSIONS.every((version) => versions.includes(version))) {
    throw new ModernBindingError('server/discover does not list 2026-07-28');
  }
}
