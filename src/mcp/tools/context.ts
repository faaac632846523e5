/**
 * @module mcp/tools/context
 * What the built-in tools may learn about the running server: counters and a redacted
 * configuration summary. Deliberately narrow, so no tool can reach keys or the raw config.
 */

export interface StatusSnapshot {
  readonly uptimeSeconds: number;
  readonly requestsServed: number;
  readonly authFailures: number;
  readonly rateLimited: number;
  readonly activeSessions: number;
  /** Requests served on the 2026-07-28 era (per-request, no session). */
  readonly modernRequests: number;
  readonly memory: { readonly rssBytes: number; readonly heapUsedBytes: number; readonly heapTotalBytes: number };
  /** False when counters are switched off (`MCP_ENABLE_MONITORING=false`). */
  readonly monitoring: boolean;
}

export interface BuiltinContext {
  status(): StatusSnapshot;
  /** Configuration without secrets (counts of keys, never keys). */
  configSummary(): Readonly<Record<string, unknown>>;
}

/** A text tool result. */
export function textResult(text: string): { content: [{ type: 'text'; text: string }] } {
  return { content: [{ type: 'text', text }] };
}

/** A JSON tool result: text for every client, structured content for those that read it. */
export function jsonResult(value: Record<string, unknown>): { content: [{ type: 'text'; text: string }]; structuredContent: Record<string, unknown> } {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

/** A tool error (`isError: true`) with a short message that never echoes the input. */
export function toolError(message: string): { content: [{ type: 'text'; text: string }]; isError: true } {
  return { content: [{ type: 'text', text: message }], isError: true };
}
