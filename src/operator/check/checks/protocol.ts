/**
 * @module operator/check/checks/protocol
 * `protocol`: on a real session (initialized the way a client does), the server refuses an
 * unsupported `MCP-Protocol-Version` with 400, a forged `Mcp-Session-Id` with 404, and
 * malformed JSON with 400 and JSON-RPC `-32700` (MCP Transports §Protocol Version Header,
 * §Session Management; JSON-RPC 2.0 §5.1). A valid `ping` on the same session first shows
 * that the refusals come from the bad input and not from the session. Skipped on a server
 * that speaks only the 2026-07-28 era, which has no initialize and no sessions.
 */

import { randomUUID } from 'node:crypto';
import type { ProbeResponse } from '../probe.js';
import { rateLimited } from '../net-errors.js';
import { REF } from '../references.js';
import { PARSE_ERROR, rpcErrorCode, rpcRequest } from '../rpc.js';
import { noSessionsReason, speaksOnlyModern } from '../eras.js';
import { closeSession, initialize, sessionHeaders, type RawSession } from '../session.js';
import { combine, step } from '../steps.js';
import type { CheckContext, CheckDefinition, CheckOutcome, Step } from '../types.js';

/** A version no server supports (MCP versions are release dates, the first is 2024-11-05). */
export const UNSUPPORTED_VERSION = '1999-01-01';

function isSuccess(status: number): boolean {
  return status >= 200 && status <= 299;
}

function post(context: CheckContext, session: RawSession, body: string, extra: Record<string, string> = {}): Promise<ProbeResponse> {
  return context.http.request({ url: context.options.url, method: 'POST', headers: sessionHeaders(session, extra), body });
}

/** A 429 says nothing about the input; the step is skipped with the server's Retry-After. */
function limited(name: string, label: string, response: ProbeResponse): Step | undefined {
  return response.status === 429 ? step(name, 'SKIP', `${label}: ${rateLimited(response.header('retry-after'))}`) : undefined;
}

async function controlStep(context: CheckContext, session: RawSession): Promise<Step> {
  const response = await post(context, session, rpcRequest(2, 'ping'));
  const skipped = limited('control', 'ping on the session', response);
  if (skipped !== undefined) return skipped;
  if (isSuccess(response.status)) return step('control', 'PASS', `ping on the session → ${response.status}`);
  return step('control', 'WARN', `a valid ping on the session → ${response.status}, so the refusals below may have other causes`);
}

async function versionStep(context: CheckContext, session: RawSession): Promise<Step> {
  const label = `MCP-Protocol-Version: ${UNSUPPORTED_VERSION}`;
  const response = await post(context, session, rpcRequest(3, 'ping'), { 'mcp-protocol-version': UNSUPPORTED_VERSION });
  const skipped = limited('unsupported version', label, response);
  if (skipped !== undefined) return skipped;
  if (response.status === 400) return step('unsupported version', 'PASS', `${label} → 400`);
  if (isSuccess(response.status)) return step('unsupported version', 'FAIL', `${label} → ${response.status}: accepted, expected 400`);
  return step('unsupported version', 'WARN', `${label} → ${response.status}, expected 400`);
}

async function forgedSessionStep(context: CheckContext, session: RawSession): Promise<Step> {
  if (session.sessionId === undefined) return step('forged session', 'SKIP', 'forged session id (the server issued no session id: stateless)');
  const response = await post(context, session, rpcRequest(4, 'ping'), { 'mcp-session-id': randomUUID() });
  const skipped = limited('forged session', 'a forged Mcp-Session-Id', response);
  if (skipped !== undefined) return skipped;
  if (response.status === 404) return step('forged session', 'PASS', 'a forged Mcp-Session-Id → 404');
  if (isSuccess(response.status)) return step('forged session', 'FAIL', `a forged Mcp-Session-Id → ${response.status}: accepted`);
  return step('forged session', 'WARN', `a forged Mcp-Session-Id → ${response.status}, expected 404`);
}

async function malformedStep(context: CheckContext, session: RawSession): Promise<Step> {
  const response = await post(context, session, '{"jsonrpc":"2.0","id":5,"method":"ping"');
  const skipped = limited('malformed JSON', 'malformed JSON', response);
  if (skipped !== undefined) return skipped;
  const code = rpcErrorCode(response.messages());
  if (response.status === 400 && code === PARSE_ERROR) return step('malformed JSON', 'PASS', `malformed JSON → 400 ${PARSE_ERROR}`);
  if (response.status === 400) return step('malformed JSON', 'WARN', `malformed JSON → 400 ${code ?? 'without a JSON-RPC error'}, expected ${PARSE_ERROR}`);
  if (isSuccess(response.status) || response.status >= 500) {
    return step('malformed JSON', 'FAIL', `malformed JSON → ${response.status}, expected 400 ${PARSE_ERROR}`);
  }
  return step('malformed JSON', 'WARN', `malformed JSON → ${response.status}, expected 400 ${PARSE_ERROR}`);
}

export const protocolCheck: CheckDefinition = {
  name: 'protocol',
  summary: 'unsupported MCP-Protocol-Version → 400, forged session id → 404, malformed JSON → 400 -32700',
  reference: REF.protocol,
  usesEras: true,
  async run(context): Promise<CheckOutcome> {
    // Sessions exist only in the 2025 era; the modern check audits the other one.
    if (speaksOnlyModern(context.eras)) return { status: 'SKIP', reason: noSessionsReason(context.eras), reference: REF.protocol };
    const opened = await initialize(context);
    if (opened.kind === 'refused') return { status: 'SKIP', reason: `cannot open a session: ${opened.reason}`, reference: REF.protocol };
    const { session } = opened;
    try {
      const steps = [
        await controlStep(context, session),
        await versionStep(context, session),
        await forgedSessionStep(context, session),
        await malformedStep(context, session),
      ];
      return combine(steps, REF.protocol, { protocolVersion: session.protocolVersion, sessions: session.sessionId !== undefined });
    } finally {
      await closeSession(context, session);
    }
  },
};
