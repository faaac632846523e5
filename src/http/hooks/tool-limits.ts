/**
 * @module http/hooks/tool-limits
 * Per-tool rate limits (`--tool-rate-limit calculate=30/60s`): at most N calls of one tool per
 * credential in any rolling window, on top of the per-IP and per-key limits. A call is counted
 * under `<principal id>\0<tool>`; an anonymous caller (no authentication on the route) under
 * its client address as the per-IP limiter keys it (IPv6 by /64). A configured name that no
 * tool has is counted all the same: the name came from the caller, whose own quota pays.
 *
 * One entry per protocol era:
 * - {@link ToolLimits.consume}: one call named by a header (the 2026-07-28 `Mcp-Name`), called
 *   by the modern path before the body is read;
 * - {@link ToolLimits.legacy}: a route `preHandler` (after the body is parsed) counting every
 *   `tools/call` in the body, in order; a JSON-RPC batch consumes one per call, and the first
 *   refused call refuses the whole request (calls counted before it stay counted, as any
 *   admitted request does). A request already counted by `consume` is skipped, so no call is
 *   counted twice.
 *
 * Refused: 429 `WARDEN_ERR_TOOL_RATE_LIMITED` (JSON-RPC -32000, like the other limits) with
 * `Retry-After`, `RateLimit-Limit/-Remaining/-Reset` and `RateLimit-Policy: n;w=s;comment="per
 * key per tool"` (draft-ietf-httpapi-ratelimit-headers), the `rate_limited` security event
 * (limit `tool`). The message names the tool as configured, never text from the request.
 *
 * Hand-written rather than @fastify/rate-limit: that plugin counts one unit per request and
 * route, while a batch body holds several calls of several tools; the stores here are the same
 * exact rolling-window stores (memory or Redis, with their failure policy) as the other limits.
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, preHandlerHookHandler } from 'fastify';
import type { ToolRateLimit } from '../../config/options.js';
import { DEFAULT_MAX_BATCH } from '../../mcp/transport/streamable-http.js';
import type { SecurityEvents } from '../../observability/security-events.js';
import { clientKey } from '../../security/client-ip.js';
import type { RateLimitDecision, RateLimitStore } from '../../store/types.js';
import { replyError } from '../error-reply.js';

export interface ToolLimitsOptions {
  /** The configured limits (`config.toolRateLimit`). */
  readonly limits: readonly ToolRateLimit[];
  /** One store per distinct window of `limits` (window ms → store). */
  readonly stores: ReadonlyMap<number, RateLimitStore>;
  readonly events: SecurityEvents;
  /**
   * The configured name of a tool as the route serves it (a gateway upstream alone on
   * `/mcp/<name>` serves `echo`, limited as `<name>__echo`); default: the same name. Calls on
   * both paths then share one count.
   */
  readonly limitedName?: (served: string) => string;
}

/** The per-tool limits of both eras (see the module header). */
export interface ToolLimits {
  /** True when at least one tool has a limit; otherwise `consume` lets everything through and `legacy` need not be registered. */
  readonly enabled: boolean;
  /**
   * Counts one call of `tool` for the request's caller: calls `done()` when admitted (or when
   * `tool` has no limit), answers 429 itself when refused, and hands a store failure to `done`
   * (`--redis-failure closed`: 503). Settle-style, like an onRequest hook.
   */
  consume(request: FastifyRequest, reply: FastifyReply, tool: string, done: HookHandlerDoneFunction): void;
  /** The route preHandler counting the `tools/call` messages of a parsed POST body. */
  readonly legacy: preHandlerHookHandler;
}

/** One configured tool, with what its refusal says (built once). */
interface Rule {
  readonly tool: string;
  readonly limit: number;
  readonly store: RateLimitStore;
  readonly policy: string;
  readonly detail: string;
  /** `[this]`, so a single call is counted without allocating a list. */
  readonly alone: readonly Rule[];
}

function rulesOf(limits: readonly ToolRateLimit[], stores: ReadonlyMap<number, RateLimitStore>): ReadonlyMap<string, Rule> {
  const rules = new Map<string, Rule>();
  for (const { tool, limit, windowMs } of limits) {
    const store = stores.get(windowMs);
    if (store === undefined) throw new Error(`no rate-limit store for the ${windowMs} ms window of tool ${tool}`);
    const alone: Rule[] = [];
    const rule: Rule = {
      tool,
      limit,
      store,
      policy: `${limit};w=${Math.max(1, Math.ceil(windowMs / 1000))};comment="per key per tool"`,
      // The configured name (TOOL_NAME charset), never the request's text.
      detail: `for tool "${tool}"`,
      alone,
    };
    alone.push(rule);
    rules.set(tool, rule);
  }
  return rules;
}

/** Whom a call is counted for: the credential, or the client address of an anonymous caller. */
function subjectOf(request: FastifyRequest): string {
  const principal = request.principal;
  return principal === null || principal.kind === 'anonymous' ? clientKey(request.ip) : principal.id;
}

/**
 * Builds the per-tool limits over their stores.
 *
 * @example
 * const toolLimits = createToolLimits({ limits: config.toolRateLimit, stores: shared.toolRateLimitStores, events });
 * app.route({ url: '/mcp', method: 'POST', preHandler: toolLimits.legacy, handler });
 * // modern path, from a validated Mcp-Name header:
 * toolLimits.consume(request, reply, name, done);
 */
export function createToolLimits(options: ToolLimitsOptions): ToolLimits {
  const { events } = options;
  const rules = rulesOf(options.limits, options.stores);
  const limitedName = options.limitedName ?? ((served: string) => served);
  /** Requests whose calls `consume` counted from headers (the body is not counted again). */
  const counted = new WeakSet<FastifyRequest>();

  /** The rule of a `tools/call` message for a configured tool, else undefined. */
  function ruleOf(message: unknown): Rule | undefined {
    if (typeof message !== 'object' || message === null || (message as { method?: unknown }).method !== 'tools/call') return undefined;
    const name = (message as { params?: { name?: unknown } | null }).params?.name;
    return typeof name === 'string' ? rules.get(limitedName(name)) : undefined;
  }

  function refuse(request: FastifyRequest, reply: FastifyReply, rule: Rule, decision: RateLimitDecision): void {
    const resetSeconds = String(Math.max(1, Math.ceil(decision.resetMs / 1000)));
    request.mcpTool = rule.tool;
    events.rateLimited(request.ip, 'tool', request.principal ?? undefined, rule.tool);
    replyError(
      request,
      reply,
      'WARDEN_ERR_TOOL_RATE_LIMITED',
      'tool',
      {
        'retry-after': resetSeconds,
        'ratelimit-limit': String(rule.limit),
        'ratelimit-remaining': '0',
        'ratelimit-reset': resetSeconds,
        'ratelimit-policy': rule.policy,
      },
      rule.detail,
    );
  }

  /** Counts `calls[index..]` one after the other; stops at the first refusal. */
  function run(request: FastifyRequest, reply: FastifyReply, subject: string, calls: readonly Rule[], index: number, done: HookHandlerDoneFunction): void {
    while (index < calls.length) {
      const rule = calls[index++] as Rule;
      const decision = rule.store.consume(`${subject}\u0000${rule.tool}`, rule.limit);
      if (decision instanceof Promise) {
        const next = index;
        decision.then(
          (settled) => (settled.allowed ? run(request, reply, subject, calls, next, done) : refuse(request, reply, rule, settled)),
          (error: unknown) => done(error as Error),
        );
        return;
      }
      if (!decision.allowed) {
        refuse(request, reply, rule, decision);
        return;
      }
    }
    done();
  }

  function consume(request: FastifyRequest, reply: FastifyReply, tool: string, done: HookHandlerDoneFunction): void {
    counted.add(request);
    const rule = rules.get(limitedName(tool));
    if (rule === undefined) {
      done();
      return;
    }
    run(request, reply, subjectOf(request), rule.alone, 0, done);
  }

  function toolLimits(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const body = request.body;
    if (counted.has(request)) {
      done();
      return;
    }
    if (!Array.isArray(body)) {
      const rule = ruleOf(body);
      if (rule === undefined) done();
      else run(request, reply, subjectOf(request), rule.alone, 0, done);
      return;
    }
    // A batch over the transport's maximum is refused (400) before any of its calls runs: nothing to count.
    if (body.length > DEFAULT_MAX_BATCH) {
      done();
      return;
    }
    const calls: Rule[] = [];
    for (const message of body) {
      const rule = ruleOf(message);
      if (rule !== undefined) calls.push(rule);
    }
    run(request, reply, subjectOf(request), calls, 0, done);
  }

  if (rules.size === 0) {
    return { enabled: false, consume: (_request, _reply, _tool, done) => done(), legacy: (_request, _reply, done) => done() };
  }
  return { enabled: true, consume, legacy: toolLimits };
}
