/**
 * @module mcp/protocol-versions
 * The MCP protocol versions served over Streamable HTTP, newest first. Streamable HTTP first
 * appeared in 2025-03-26, so older versions are not offered here. The 2025 revisions open a
 * session with `initialize` (the legacy era); {@link MODERN_PROTOCOL_VERSIONS} carry the version
 * in every request's `_meta` (the modern era, MCP 2026-07-28; see `mcp/era`).
 */

/** The 2025-era (`initialize` + session) versions, newest first. */
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

/** The modern-era versions (per-request `_meta`, no `initialize`, no sessions), newest first. */
export const MODERN_PROTOCOL_VERSIONS = ['2026-07-28'] as const;
export type ModernProtocolVersion = (typeof MODERN_PROTOCOL_VERSIONS)[number];

/** Every version served, both eras, newest first: the `data.supported` of an UnsupportedProtocolVersionError (-32022). */
export const ALL_SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = Object.freeze([...MODERN_PROTOCOL_VERSIONS, ...SUPPORTED_PROTOCOL_VERSIONS]);

const MODERN = new Set<string>(MODERN_PROTOCOL_VERSIONS);

export function isModernProtocolVersion(version: unknown): version is ModernProtocolVersion {
  return typeof version === 'string' && MODERN.has(version);
}
