/**
 * @module mcp/protocol-versions
 * The MCP protocol versions served over Streamable HTTP, newest first. Streamable HTTP first
 * appeared in 2025-03-26, so older versions are not offered here.
 */

export const SUPPORTED_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'] as const;
export type ProtocolVersion = (typeof SUPPORTED_PROTOCOL_VERSIONS)[number];
export const LATEST_PROTOCOL_VERSION: ProtocolVersion = '2025-11-25';
/** Assumed when a request carries no MCP-Protocol-Version header (spec 2025-06-18, transports §protocol version header). */
export const DEFAULT_PROTOCOL_VERSION: ProtocolVersion = '2025-03-26';

const SUPPORTED = new Set<string>(SUPPORTED_PROTOCOL_VERSIONS);

export function isSupportedProtocolVersion(version: string): version is ProtocolVersion {
  return SUPPORTED.has(version);
}

/** The version to answer an initialize request with: the client's when we support it, else our latest (lifecycle §version negotiation). */
export function negotiateProtocolVersion(requested: unknown): ProtocolVersion {
  return typeof requested === 'string' && isSupportedProtocolVersion(requested) ? requested : LATEST_PROTOCOL_VERSION;
}

/** JSON-RPC batching was removed in 2025-06-18; only 2025-03-26 accepts arrays. */
export function allowsBatching(version: ProtocolVersion): boolean {
  return version === '2025-03-26';
}
