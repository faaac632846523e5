/**
 * @module observability/stats
 * In-process counters behind /api/status and the server_status tool. Plain integer fields:
 * incrementing one costs a few nanoseconds on the request path. Switched off with
 * `MCP_ENABLE_MONITORING=false` (counters then stay at zero).
 */

import type { McpEventSink, ToolCallEvent } from '../mcp/policy.js';
import type { StatusSnapshot } from '../mcp/tools/context.js';

/** Distinct tool names tracked; more fold into "(other)" so clients cannot grow the map. */
const MAX_TOOL_NAMES = 256;

export interface ToolCounters {
  calls: number;
  errors: number;
  totalMs: number;
}

export class ServerStats implements McpEventSink {
  readonly startedAt = Date.now();
  readonly enabled: boolean;
  requests = 0;
  authFailures = 0;
  rateLimited = 0;
  forbidden = 0;
  scopeDenials = 0;
  modernRequests = 0;
  readonly tools = new Map<string, ToolCounters>();
  readonly #activeSessions: () => number;
  readonly #listenStreams: () => number;

  constructor(options: { enabled: boolean; activeSessions: () => number; listenStreams?: () => number }) {
    this.enabled = options.enabled;
    this.#activeSessions = options.activeSessions;
    this.#listenStreams = options.listenStreams ?? (() => 0);
  }

  /** Open `subscriptions/listen` streams on this replica (a count the hub keeps: free to read). */
  listenStreams(): number {
    return this.#listenStreams();
  }

  request(): void {
    if (this.enabled) this.requests++;
  }

  /** A request reached the 2026-07-28 side of /mcp. */
  modernRequest(): void {
    if (this.enabled) this.modernRequests++;
  }

  authFailure(): void {
    if (this.enabled) this.authFailures++;
  }

  limited(): void {
    if (this.enabled) this.rateLimited++;
  }

  denied(): void {
    if (this.enabled) this.forbidden++;
  }

  scopeDenied(): void {
    if (this.enabled) this.scopeDenials++;
  }

  toolCall(event: ToolCallEvent): void {
    if (!this.enabled) return;
    let name = event.tool;
    if (!this.tools.has(name) && this.tools.size >= MAX_TOOL_NAMES) name = '(other)';
    let counters = this.tools.get(name);
    if (counters === undefined) {
      counters = { calls: 0, errors: 0, totalMs: 0 };
      this.tools.set(name, counters);
    }
    counters.calls++;
    if (event.outcome !== 'ok') counters.errors++;
    counters.totalMs += event.durationMs;
  }

  snapshot(): StatusSnapshot {
    const memory = process.memoryUsage();
    return {
      uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
      requestsServed: this.requests,
      authFailures: this.authFailures,
      rateLimited: this.rateLimited,
      activeSessions: this.#activeSessions(),
      modernRequests: this.modernRequests,
      memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, heapTotalBytes: memory.heapTotal },
      monitoring: this.enabled,
    };
  }

  /** Calls per tool, for /api/status. */
  toolSummary(): Record<string, { calls: number; errors: number; avgMs: number }> {
    // No prototype: a tool called "__proto__" must be a key like any other.
    const summary = Object.create(null) as Record<string, { calls: number; errors: number; avgMs: number }>;
    for (const [name, counters] of this.tools) {
      summary[name] = { calls: counters.calls, errors: counters.errors, avgMs: counters.calls === 0 ? 0 : Math.round((counters.totalMs / counters.calls) * 100) / 100 };
    }
    return summary;
  }
}
