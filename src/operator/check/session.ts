/**
 * @module operator/check/session
 * Raw MCP requests for the checks: the headers a conforming client sends, and sessions for
 * the checks that need one: a POST initialize, the `notifications/initialized` that completes
 * the handshake, and a best-effort DELETE afterwards, so the audit leaves no sessions behind
 * (MCP Transports §Session Management).
 */

import { banHint, rateLimited } from './net-errors.js';
import type { ProbeResponse } from './probe.js';
import { CHECK_PROTOCOL_VERSION, initializeRequest, MCP_ACCEPT, rpcResult } from './rpc.js';
import type { CheckContext, ProbeContext } from './types.js';

/** What identifies a session on later requests. `sessionId` is undefined on stateless servers. */
export interface RawSession {
  readonly sessionId: string | undefined;
  readonly protocolVersion: string;
  /** The key that opened the session (undefined when the server needs none). */
  readonly key: string | undefined;
}

export type InitializeOutcome =
  | { readonly kind: 'ok'; readonly session: RawSession; readonly response: ProbeResponse }
  | { readonly kind: 'refused'; readonly status: number; readonly reason: string; readonly response: ProbeResponse };

/** Headers of a JSON-RPC POST, with `Authorization` when `key` is given. */
export function postHeaders(key: string | undefined, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: MCP_ACCEPT,
    ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    ...extra,
  };
}

/** Headers that carry `session` on a later request. */
export function sessionHeaders(session: RawSession, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return postHeaders(session.key, {
    'mcp-protocol-version': session.protocolVersion,
    ...(session.sessionId === undefined ? {} : { 'mcp-session-id': session.sessionId }),
    ...extra,
  });
}

/** Why a request (`label`: initialize, server/discover) with (or without) a key was refused, in words. */
export function refusal(status: number, key: string | undefined, retryAfter: string | undefined, label = 'initialize'): string {
  if (status === 429) return rateLimited(retryAfter);
  const hint = banHint(status, retryAfter);
  if (hint !== '') return `${label} answered ${status}${hint}`;
  if (status === 401 || status === 403) {
    return key === undefined ? `the server requires authentication (${status}); pass --api-key` : `the given key was refused (${status})`;
  }
  return `${label} answered ${status}`;
}

/**
 * Opens a session with a raw initialize. Resolves `refused` for any non-2xx answer or an
 * answer without an initialize result; rejects only when no HTTP answer arrived.
 */
export async function initialize(context: CheckContext, key: string | undefined = context.options.apiKey): Promise<InitializeOutcome> {
  const { http, options } = context;
  const response = await http.request({ url: options.url, method: 'POST', headers: postHeaders(key), body: initializeRequest() });
  if (response.status < 200 || response.status > 299) return { kind: 'refused', status: response.status, reason: refusal(response.status, key, response.header('retry-after')), response };
  const result = rpcResult(response.messages());
  if (result === undefined) return { kind: 'refused', status: response.status, reason: `initialize answered ${response.status} without a result`, response };
  const version = typeof result['protocolVersion'] === 'string' ? result['protocolVersion'] : CHECK_PROTOCOL_VERSION;
  const session: RawSession = { sessionId: response.header('mcp-session-id'), protocolVersion: version, key };
  // Completes the handshake; servers may refuse requests on a session that never sent it.
  await http
    .request({ url: options.url, method: 'POST', headers: sessionHeaders(session), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })
    .catch(() => undefined);
  return { kind: 'ok', session, response };
}

/** Ends a session opened by the audit (best effort: failures are ignored). */
export async function closeSession(context: ProbeContext, session: RawSession): Promise<void> {
  if (session.sessionId === undefined) return;
  await context.http.request({ url: context.options.url, method: 'DELETE', headers: sessionHeaders(session) }).catch(() => undefined);
}

/** Ends the session an accepted initialize created, if any (used when probing with bad credentials). */
export async function closeIfOpened(context: ProbeContext, response: ProbeResponse, key: string | undefined): Promise<void> {
  const sessionId = response.header('mcp-session-id');
  if (response.status < 200 || response.status > 299 || sessionId === undefined) return;
  const version = rpcResult(response.messages())?.['protocolVersion'];
  await closeSession(context, { sessionId, protocolVersion: typeof version === 'string' ? version : CHECK_PROTOCOL_VERSION, key });
}
