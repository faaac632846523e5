/**
 * @module mcp/policy
 * What happens to a response after it leaves the protocol engine: the default policy keeps
 * error answers generic (the engine may put library messages in them) except those whose message
 * and data MCP fixes (URL elicitation, -32020/-32021/-32022, the refused `requestState`, a
 * gateway error naming its upstream, rebuilt from constants), restores `RPC.INVALID_PARAMS` for
 * parameter errors the SDK reports as internal errors, reduces list and completion results to
 * what the caller may use, and counts tool calls. Requests naming a tool, resource or prompt
 * outside the caller's scope are refused before dispatch ({@link MessagePolicy.refuse}); the
 * mapping from credentials to tools, resources and prompts is in `mcp/access`.
 */

import { isSpecType, type JSONRPCMessage, type JSONRPCRequest } from '@modelcontextprotocol/server';
import type { Principal } from '../security/identity.js';
import { NO_OPERATOR_PARTS, refusedRequest, visibleResult, type AccessRules, type Denial } from './access.js';
import { upstreamWireError } from '../errors.js';
import { RPC, RPC_MESSAGES } from '../wire-codes.js';

/** One request in flight, as the policy sees it. */
export interface CallContext {
  readonly method: string;
  /** The request as received (with the client's id). */
  readonly request: JSONRPCRequest;
  readonly principal: Principal;
  readonly sessionId: string | undefined;
  /** The client address the request came from. */
  readonly clientIp: string;
  /** `performance.now()` when the request was dispatched. */
  readonly startedAt: number;
}

/** A JSON-RPC error object. */
export interface RpcError {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

export interface MessagePolicy {
  /** Before dispatch: why `messages` must be refused for `principal` (403 insufficient_scope), if so. */
  refuse(principal: Principal, messages: readonly JSONRPCMessage[]): Denial | undefined;
  /** Called with each response (client id restored); returns what is sent. */
  finish(context: CallContext, response: JSONRPCMessage): JSONRPCMessage;
}

/** Outcome of a `tools/call`, for counters and the audit trail. */
export type ToolOutcome = 'ok' | 'tool_error' | 'rpc_error' | 'denied';

export interface ToolCallEvent {
  readonly tool: string;
  readonly outcome: ToolOutcome;
  readonly durationMs: number;
  readonly principal: Principal;
  readonly sessionId: string | undefined;
  readonly clientIp: string;
  /** The request (arguments included), for the audit trail's argument policy. */
  readonly request: JSONRPCRequest | undefined;
  /** The result answered (`ok`, `tool_error`), for the audit trail in `full` mode. */
  readonly result?: unknown;
}

/** Receives notable MCP-level events. */
export interface McpEventSink {
  toolCall(event: ToolCallEvent): void;
  /** An error answer before sanitising: the rich reason, for the log only. */
  rpcError?(context: CallContext, original: RpcError): void;
}

// Codes whose message and data a client needs verbatim: URL elicitation required (MCP 2025-11-25),
// and the 2026-07-28 errors whose `data` is part of the contract (HeaderMismatch,
// MissingRequiredClientCapability with `requiredCapabilities`, UnsupportedProtocolVersion with
// `supported` and `requested`).
const PASS_THROUGH_CODES = new Set<number>([RPC.URL_ELICITATION_REQUIRED, RPC.HEADER_MISMATCH, RPC.MISSING_CLIENT_CAPABILITY, RPC.UNSUPPORTED_PROTOCOL_VERSION]);

/**
 * The SDK's frozen answer to a refused `requestState` (MCP 2026-07-28 basic/patterns/mrtr): a
 * client tells it from other invalid params by `data.reason`. Rebuilt from constants, so nothing
 * else a handler put in such an error goes out.
 */
const REQUEST_STATE_REFUSED: RpcError = Object.freeze({
  code: RPC.INVALID_PARAMS,
  message: 'Invalid or expired requestState',
  data: Object.freeze({ reason: 'invalid_request_state' }),
});

function isRequestStateRefusal(error: RpcError): boolean {
  const data = error.data;
  return error.code === RPC.INVALID_PARAMS && typeof data === 'object' && data !== null && (data as { reason?: unknown }).reason === 'invalid_request_state';
}

/** The tool name of a `tools/call` request, when it has one. */
export function toolNameOf(request: JSONRPCRequest): string | undefined {
  if (request.method !== 'tools/call') return undefined;
  const name = request.params?.['name'];
  return typeof name === 'string' ? name : undefined;
}

function sanitizeError(context: CallContext, error: RpcError): RpcError {
  if (PASS_THROUGH_CODES.has(error.code)) return error;
  if (isRequestStateRefusal(error)) return REQUEST_STATE_REFUSED;
  // A gateway error naming its upstream: rebuilt from constants (errors.upstreamWireError).
  const data = error.data as { warden?: unknown; upstream?: unknown } | undefined;
  const upstream = typeof data === 'object' && data !== null ? upstreamWireError(data.warden, data.upstream) : undefined;
  if (upstream !== undefined && upstream.code === error.code) return upstream;
  let code = error.code;
  // The SDK answers a params schema failure thrown by its own parser as `RPC.INTERNAL_ERROR`; a request its
  // schemas reject is the client's error, so report it as such (JSON-RPC §5.1).
  if (code === RPC.INTERNAL_ERROR && !isSpecType.ClientRequest(context.request)) code = RPC.INVALID_PARAMS;
  return { code, message: RPC_MESSAGES[code] ?? 'Request failed' };
}

// SDK v2 puts these prefixes on argument and structured-output validation failures (v1: "MCP error -32602: ").
const TOOL_VALIDATION_PREFIX = new RegExp(`^(MCP error ${RPC.INVALID_PARAMS}: |Input validation error: |Output validation error: )`);

/** Name under which calls to tools that do not exist are counted (never the client's string). */
export const UNKNOWN_TOOL = '(unknown)';

/**
 * Rewrites SDK tool-error texts that echo the client's input or carry library messages.
 * `unknown` is true when the tool does not exist.
 */
function sanitizeToolError(tool: string, result: Record<string, unknown>): { result: Record<string, unknown>; unknown: boolean } {
  const content = result['content'];
  if (!Array.isArray(content) || content.length !== 1) return { result, unknown: false };
  const first = content[0] as { type?: unknown; text?: unknown };
  if (first.type !== 'text' || typeof first.text !== 'string') return { result, unknown: false };
  const text = first.text.replace(TOOL_VALIDATION_PREFIX, '');
  let replacement: string | undefined;
  let unknown = false;
  if (text === `Tool ${tool} not found`) {
    replacement = 'Unknown tool';
    unknown = true;
  } else if (text === `Tool ${tool} disabled`) replacement = 'Tool disabled';
  else if (text !== first.text) replacement = `Invalid arguments for tool ${tool}; see its inputSchema`;
  if (replacement === undefined) return { result, unknown };
  return { result: { ...result, content: [{ type: 'text', text: replacement }] }, unknown };
}

export interface DefaultPolicyOptions {
  readonly events?: McpEventSink | undefined;
  /** Operator-only tools, resources and prompts (default: none; tool scopes still apply). */
  readonly access?: AccessRules | undefined;
}

/** The policy every server gets: generic errors outside, rich detail in the log, tool counters. */
export class DefaultPolicy implements MessagePolicy {
  readonly #events: McpEventSink | undefined;
  readonly #access: AccessRules;

  constructor(options: DefaultPolicyOptions = {}) {
    this.#events = options.events;
    this.#access = options.access ?? NO_OPERATOR_PARTS;
  }

  refuse(principal: Principal, messages: readonly JSONRPCMessage[]): Denial | undefined {
    return refusedRequest(principal, this.#access, messages);
  }

  finish(context: CallContext, response: JSONRPCMessage): JSONRPCMessage {
    const tool = toolNameOf(context.request);
    if ('error' in response) {
      this.#events?.rpcError?.(context, response.error);
      const error = sanitizeError(context, response.error);
      // The name of a call the server rejected may not be a tool at all; count it as unknown.
      if (tool !== undefined) this.#recordTool(context, UNKNOWN_TOOL, 'rpc_error');
      return { jsonrpc: '2.0', id: response.id, error };
    }
    if (tool === undefined && 'result' in response) {
      const result = response.result as Record<string, unknown>;
      let visible = visibleResult(context.principal, this.#access, context.method, context.request.params, result);
      // A modern cacheable result (MCP 2026-07-28 caching): a list filtered for this credential,
      // or anything answered to an authenticated caller, must never be shared by a cache with
      // another caller.
      if (result['cacheScope'] === 'public' && (visible !== result || context.principal.kind !== 'anonymous')) visible = { ...visible, cacheScope: 'private' };
      return visible === result ? response : { ...response, result: visible };
    }
    if (tool === undefined || !('result' in response)) return response;
    const result = response.result as Record<string, unknown>;
    if (result['isError'] !== true) {
      this.#recordTool(context, tool, 'ok', result);
      return response;
    }
    const clean = sanitizeToolError(tool, result);
    this.#recordTool(context, clean.unknown ? UNKNOWN_TOOL : tool, 'tool_error', clean.result);
    return { ...response, result: clean.result };
  }

  #recordTool(context: CallContext, tool: string, outcome: ToolOutcome, result?: unknown): void {
    this.#events?.toolCall({
      tool,
      outcome,
      durationMs: performance.now() - context.startedAt,
      principal: context.principal,
      sessionId: context.sessionId,
      clientIp: context.clientIp,
      request: context.request,
      result,
    });
  }
}
