/**
 * @module mcp/era
 * Which protocol era a POST to `/mcp` belongs to, decided the way the SDK's own dual-era entry
 * decides it (`classifyInboundRequest` from `@modelcontextprotocol/server`, body first):
 * - **legacy** (2025 revisions: `initialize`, sessions): non-POST methods, `initialize` without a
 *   modern claim, requests without a `_meta` version claim, responses, all-legacy batches, and
 *   bodies that are not JSON-RPC at all (today's transport answers those as it always has);
 * - **modern** (MCP 2026-07-28): a request or notification whose `params._meta` names
 *   `io.modelcontextprotocol/protocolVersion`, when that version is one we serve;
 * - **reject**: what the SDK's ladder refuses before any engine (header/body version mismatch
 *   → 400/-32020, a modern header without the envelope, an incomplete envelope → 400/-32602, a
 *   batch holding a modern element → 400/-32600), and a claim naming a version we do not
 *   serve as modern → 400/-32022 with `data.supported` (both eras).
 * Our answers use fixed messages: the SDK's messages quote header and body values, which
 * mcp-warden never echoes; a requested version is echoed only when it is shaped like a date.
 * A pure function, run once per POST by the transport (`mcp/transport/streamable-http`). The
 * common 2025-era request (a single message without a `_meta` version claim, no modern headers)
 * is recognised without calling the SDK.
 */

import { classifyInboundRequest, type JSONRPCNotification, type JSONRPCRequest, type MessageClassification } from '@modelcontextprotocol/server';
import { RPC } from '../wire-codes.js';
import { ALL_SUPPORTED_PROTOCOL_VERSIONS, isModernProtocolVersion, isSupportedProtocolVersion, type ModernProtocolVersion } from './protocol-versions.js';

const PROTOCOL_VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';

/** What the classifier reads of a request: its HTTP method, raw headers (Node's lower-case names) and parsed body. */
export interface EraInput {
  readonly httpMethod: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The parsed JSON body (undefined for body-less methods). */
  readonly body?: unknown;
}

export type EraDecision =
  | { readonly era: 'legacy' }
  | {
      readonly era: 'modern';
      readonly revision: ModernProtocolVersion;
      readonly messageKind: 'request' | 'notification';
      readonly message: JSONRPCRequest | JSONRPCNotification;
      /** Handed to the engine with the message (`extra.classification`). */
      readonly classification: MessageClassification;
    }
  | {
      readonly era: 'reject';
      readonly status: number;
      readonly code: number;
      readonly message: string;
      readonly data?: unknown;
      /** The SDK ladder cell (or ours: `unsupported-modern-version`), for logs and tests. */
      readonly cell: string;
    };

const LEGACY: EraDecision = Object.freeze({ era: 'legacy' });
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function header(headers: EraInput['headers'], name: string): string | undefined {
  const value = headers[name];
  // A repeated header is kept joined, so it can never equal a single valid value.
  return value === undefined ? undefined : typeof value === 'string' ? value : value.join(', ');
}

function reject(cell: string, status: number, code: number, message: string, data?: unknown): EraDecision {
  return data === undefined ? { era: 'reject', status, code, message, cell } : { era: 'reject', status, code, message, data, cell };
}

/** -32022 with both eras' versions; `requested` only when it looks like a version (never raw client text). */
export function unsupportedVersion(requested: unknown): EraDecision {
  const data = typeof requested === 'string' && DATE.test(requested) ? { supported: ALL_SUPPORTED_PROTOCOL_VERSIONS, requested } : { supported: ALL_SUPPORTED_PROTOCOL_VERSIONS };
  return reject('unsupported-modern-version', 400, RPC.UNSUPPORTED_PROTOCOL_VERSION, 'Unsupported protocol version', data);
}

/**
 * The fast path: one JSON-RPC object whose params carry no `_meta` version claim, sent with a
 * 2025 version header (or none) and no `Mcp-Method`: the SDK classifier would call it legacy.
 */
function isPlainLegacy(body: unknown, versionHeader: string | undefined, headers: EraInput['headers']): boolean {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  if (versionHeader !== undefined && !isSupportedProtocolVersion(versionHeader)) return false;
  if (headers['mcp-method'] !== undefined) return false;
  const params = (body as { params?: unknown }).params;
  if (params === undefined) return true;
  if (params === null || typeof params !== 'object') return false;
  const meta = (params as { _meta?: unknown })._meta;
  return meta === undefined || (meta !== null && typeof meta === 'object' && !Object.hasOwn(meta, PROTOCOL_VERSION_KEY));
}

/** Classifies one request into its era (see the module comment). Never throws. */
export function classifyEra(input: EraInput): EraDecision {
  if (input.httpMethod !== 'POST') return LEGACY;
  const protocolVersionHeader = header(input.headers, 'mcp-protocol-version');
  if (isPlainLegacy(input.body, protocolVersionHeader, input.headers)) return LEGACY;
  const outcome = classifyInboundRequest({
    httpMethod: input.httpMethod,
    protocolVersionHeader,
    mcpMethodHeader: header(input.headers, 'mcp-method'),
    mcpNameHeader: header(input.headers, 'mcp-name'),
    body: input.body,
  });
  switch (outcome.kind) {
    case 'legacy':
      return LEGACY;
    case 'modern': {
      const revision = outcome.classification.revision;
      if (outcome.classification.era !== 'modern' || !isModernProtocolVersion(revision)) return unsupportedVersion(revision);
      return { era: 'modern', revision, messageKind: outcome.messageKind, message: outcome.message, classification: outcome.classification };
    }
    case 'reject':
      switch (outcome.cell) {
        // Not JSON-RPC at all: the legacy transport answers it exactly as before (-32600/-32700).
        case 'invalid-json-rpc-body':
          return LEGACY;
        // The SDK treats any header that is no 2025 version as a modern claim. Only a date from the
        // first modern revision on is one; anything else keeps today's "unsupported version" answer.
        case 'modern-header-without-claim':
          // A version we serve as modern, without the envelope: a modern request missing it. Any
          // other date (2099-01-01) is answered as today: 400 naming the supported versions.
          if (protocolVersionHeader === undefined || !isModernProtocolVersion(protocolVersionHeader)) return LEGACY;
          return reject(outcome.cell, 400, RPC.INVALID_PARAMS, 'Invalid params: missing _meta io.modelcontextprotocol/protocolVersion');
        case 'header-body-version-mismatch':
          return reject(outcome.cell, 400, RPC.HEADER_MISMATCH, 'Header mismatch: MCP-Protocol-Version does not match _meta protocolVersion');
        default:
          break;
      }
      if (outcome.code === RPC.INVALID_PARAMS) return reject(outcome.cell, 400, RPC.INVALID_PARAMS, 'Invalid params: incomplete _meta envelope');
      if (outcome.code === RPC.UNSUPPORTED_PROTOCOL_VERSION) return unsupportedVersion(undefined);
      return reject(outcome.cell, outcome.httpStatus >= 400 && outcome.httpStatus < 500 ? outcome.httpStatus : 400, outcome.code === RPC.HEADER_MISMATCH ? RPC.HEADER_MISMATCH : RPC.INVALID_REQUEST, outcome.code === RPC.HEADER_MISMATCH ? 'Header mismatch' : 'Invalid Request');
  }
}
