/**
 * @module operator/check/modern-request
 * Raw requests of the 2026-07-28 ("modern") era for the audit, built by hand like the rest of
 * the audit's client (no SDK, so every header can be sent wrong on purpose). A modern request
 * has no handshake and no session: each POST carries the protocol version, the client's
 * capabilities and identity in `params._meta` (MCP 2026-07-28 basic/index §_meta), and mirrors
 * the version, the method and (for `tools/call`, `resources/read`, `prompts/get`) the name in
 * the `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers (basic/transports/
 * streamable-http §Request Metadata).
 */

import { VERSION } from '../../version.js';
import { rpcRequest } from './rpc.js';
import { postHeaders } from './session.js';

/** The modern revision the audit speaks and audits. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/** The `_meta` keys of the per-request envelope (MCP 2026-07-28 basic/index). */
export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
export const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
export const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';

/** The JSON-RPC codes the modern transport answers with (basic/index §Error Codes; JSON-RPC 2.0 §5.1). */
export const HEADER_MISMATCH = -32020;
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;
export const METHOD_NOT_FOUND = -32601;

/** Methods whose `Mcp-Name` header mirrors `params.name` or `params.uri` (§Standard Request Headers). */
const NAMED_METHODS: Readonly<Record<string, 'name' | 'uri'>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

export interface ModernRequestOptions {
  readonly key: string | undefined;
  /** The version in `_meta` (default {@link MODERN_PROTOCOL_VERSION}). */
  readonly version?: string;
  /** The `MCP-Protocol-Version` header (default: the `_meta` version). */
  readonly headerVersion?: string;
  /** The `Mcp-Method` header; `null` leaves it out (default: the body's method). */
  readonly mcpMethod?: string | null;
  /** The `Mcp-Name` header (default: the body's name or uri, for the methods that need one). */
  readonly mcpName?: string;
  /** More headers (e.g. `origin`). */
  readonly extra?: Readonly<Record<string, string>>;
}

export interface RawRequest {
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The `_meta` envelope a modern request carries. */
export function envelope(version: string = MODERN_PROTOCOL_VERSION): Record<string, unknown> {
  return {
    [META_PROTOCOL_VERSION]: version,
    [META_CLIENT_CAPABILITIES]: {},
    [META_CLIENT_INFO]: { name: 'mcp-warden-check', version: VERSION },
  };
}

/**
 * Headers and body of one modern request; each header can be overridden to probe validation.
 *
 * @example
 * modernRequest(1, 'tools/call', { name: 'echo', arguments: {} }, { key, mcpName: 'other' });
 * // Mcp-Name: other while params.name is "echo": the server must answer 400 -32020
 */
export function modernRequest(id: number, method: string, params: Readonly<Record<string, unknown>>, options: ModernRequestOptions): RawRequest {
  const version = options.version ?? MODERN_PROTOCOL_VERSION;
  const source = NAMED_METHODS[method];
  const bodyName = source === undefined ? undefined : params[source];
  const mcpName = options.mcpName ?? (typeof bodyName === 'string' ? bodyName : undefined);
  const mcpMethod = options.mcpMethod === undefined ? method : options.mcpMethod;
  const headers = postHeaders(options.key, {
    'mcp-protocol-version': options.headerVersion ?? version,
    ...(mcpMethod === null ? {} : { 'mcp-method': mcpMethod }),
    ...(mcpName === undefined ? {} : { 'mcp-name': mcpName }),
    ...options.extra,
  });
  return { headers, body: rpcRequest(id, method, { ...params, _meta: envelope(version) }) };
}

/** The `server/discover` request every modern server must answer (basic/versioning §Protocol Version Negotiation). */
export function discoverRequest(key: string | undefined, extra: Readonly<Record<string, string>> = {}): RawRequest {
  return modernRequest(1, 'server/discover', {}, { key, extra });
}
