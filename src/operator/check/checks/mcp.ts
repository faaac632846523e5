/**
 * @module operator/check/checks/mcp
 * `mcp`: connects with the official SDK client as a real MCP client would, reports the
 * negotiated protocol version, server and capabilities, and lists the tools. With
 * `--call-tools` it also calls each tool once with minimal arguments built from its input
 * schema (opt-in: tools can have side effects) and reports each outcome. Skipped on a server
 * that speaks only the 2026-07-28 era (the client opens with initialize).
 */

import { Client, ProtocolError, SdkError, SdkErrorCode, SdkHttpError, StreamableHTTPClientTransport, type Tool } from '@modelcontextprotocol/client';
import { VERSION } from '../../../version.js';
import { noSessionsReason, speaksOnlyModern } from '../eras.js';
import { describeNetworkError, displayUrl } from '../net-errors.js';
import { REF } from '../references.js';
import { minimalArguments } from '../tool-arguments.js';
import type { CheckDefinition, CheckOptions, CheckOutcome } from '../types.js';

/** Bounds on what a hostile or huge server can make the audit do. */
const MAX_TOOL_PAGES = 20;
const MAX_TOOLS_CALLED = 100;
const MAX_EXCERPT = 120;

export type ToolCallStatus = 'ok' | 'tool error' | 'protocol error' | 'timeout' | 'failed' | 'skipped';

export interface ToolCallReport {
  readonly tool: string;
  readonly status: ToolCallStatus;
  readonly arguments?: Record<string, unknown>;
  readonly note?: string;
}

/** A failure to connect, in words, with whether it is for want of a key. */
function connectFailure(error: unknown, options: CheckOptions): CheckOutcome {
  const code = error instanceof SdkHttpError ? error.status : undefined;
  if (code === 401 || code === 403) {
    if (options.apiKey === undefined) return { status: 'SKIP', reason: `the server requires authentication (${code}); pass --api-key`, reference: REF.mcp };
    return { status: 'FAIL', reason: `initialize with the given key → ${code}`, reference: REF.mcp };
  }
  if (code === 429) return { status: 'SKIP', reason: 'initialize: rate limited (429); try again later', reference: REF.mcp };
  if (typeof code === 'number' && code > 0) return { status: 'FAIL', reason: `initialize → HTTP ${code}`, reference: REF.mcp };
  if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout) {
    return { status: 'FAIL', reason: `no initialize result within ${options.timeoutMs} ms`, reference: REF.mcp };
  }
  const [kind, detail] = describeNetworkError(error);
  if (kind !== 'other') return { status: 'FAIL', reason: `cannot reach ${displayUrl(options.url)}: ${detail}`, reference: REF.mcp };
  return { status: 'FAIL', reason: `initialize failed: ${(error as Error).message.slice(0, MAX_EXCERPT)}`, reference: REF.mcp };
}

async function listAllTools(client: Client, timeout: number): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_TOOL_PAGES; page++) {
    const result = await client.listTools(cursor === undefined ? undefined : { cursor }, { timeout });
    tools.push(...result.tools);
    cursor = result.nextCursor;
    if (cursor === undefined) break;
  }
  return tools;
}

function firstText(content: unknown): string | undefined {
  if (!Array.isArray(content)) return undefined;
  const text = content.find((item): item is { type: 'text'; text: string } => typeof item === 'object' && item !== null && item.type === 'text' && typeof item.text === 'string');
  return text?.text.slice(0, MAX_EXCERPT);
}

async function callTool(client: Client, tool: Tool, timeout: number): Promise<ToolCallReport> {
  const args = minimalArguments(tool.inputSchema);
  if (args === undefined) return { tool: tool.name, status: 'skipped', note: 'cannot build arguments from its input schema' };
  try {
    const result = await client.callTool({ name: tool.name, arguments: args }, { timeout });
    const note = firstText(result.content);
    return { tool: tool.name, status: result.isError === true ? 'tool error' : 'ok', arguments: args, ...(note === undefined ? {} : { note }) };
  } catch (error) {
    if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout) return { tool: tool.name, status: 'timeout', arguments: args, note: `no result within ${timeout} ms` };
    if (error instanceof ProtocolError) return { tool: tool.name, status: 'protocol error', arguments: args, note: `${error.code}` };
    return { tool: tool.name, status: 'failed', arguments: args, note: (error as Error).message.slice(0, MAX_EXCERPT) };
  }
}

function tally(calls: readonly ToolCallReport[]): string {
  const counts = new Map<ToolCallStatus, number>();
  for (const call of calls) counts.set(call.status, (counts.get(call.status) ?? 0) + 1);
  return counts.size === 0 ? 'nothing to call' : [...counts].map(([status, count]) => `${count} ${status}`).join(', ');
}

export const mcpCheck: CheckDefinition = {
  name: 'mcp',
  summary: 'the official SDK client initializes and lists tools; with --call-tools, calls each tool once',
  reference: REF.mcp,
  usesEras: true,
  async run({ options, eras }): Promise<CheckOutcome> {
    // The client below opens with initialize, which a modern-only server refuses by design.
    if (speaksOnlyModern(eras)) return { status: 'SKIP', reason: noSessionsReason(eras), reference: REF.mcp };
    const timeout = options.timeoutMs;
    const transport = new StreamableHTTPClientTransport(options.url, {
      requestInit: { headers: options.apiKey === undefined ? {} : { Authorization: `Bearer ${options.apiKey}` } },
      // The audit makes no long-lived use of the GET stream; do not retry it in the background.
      reconnectionOptions: { initialReconnectionDelay: 1000, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1, maxRetries: 0 },
    });
    const client = new Client({ name: 'mcp-warden-check', version: VERSION });
    // Background stream errors are not results; without a handler the SDK would drop them anyway.
    client.onerror = () => undefined;
    try {
      try {
        await client.connect(transport, { timeout });
      } catch (error) {
        return connectFailure(error, options);
      }
      const protocolVersion = transport.protocolVersion ?? 'unknown';
      const server = client.getServerVersion();
      const capabilities = Object.keys(client.getServerCapabilities() ?? {}).sort();
      const serverName = server === undefined ? 'unnamed server' : `${server.name} ${server.version}`.slice(0, MAX_EXCERPT);
      const base = {
        protocolVersion,
        server: server === undefined ? undefined : { name: server.name, version: server.version },
        capabilities,
        sessions: transport.sessionId !== undefined,
      };
      const summary = `protocol ${protocolVersion}, ${serverName}, capabilities: ${capabilities.join(', ') || 'none'}`;
      if (!capabilities.includes('tools')) return { status: 'PASS', reason: `initialized (${summary}); no tools capability`, reference: REF.mcp, details: base };

      const tools = await listAllTools(client, timeout);
      const names = tools.map((tool) => tool.name);
      const listed = `initialized (${summary}); ${tools.length} tool${tools.length === 1 ? '' : 's'}`;
      if (!options.callTools) {
        return { status: 'PASS', reason: `${listed} (not called: pass --call-tools)`, reference: REF.mcp, details: { ...base, tools: names } };
      }
      const calls: ToolCallReport[] = [];
      for (const tool of tools.slice(0, MAX_TOOLS_CALLED)) calls.push(await callTool(client, tool, timeout));
      const troubled = calls.some((call) => call.status === 'timeout' || call.status === 'failed');
      return {
        status: troubled ? 'WARN' : 'PASS',
        reason: `${listed}; called ${calls.length}: ${tally(calls)}`,
        reference: REF.mcp,
        details: { ...base, tools: names, calls },
      };
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close().catch(() => undefined);
    }
  },
};
