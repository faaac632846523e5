/**
 * @module observability/security-events
 * The one place security-relevant events go: counters (/api/status), Prometheus metrics, the
 * audit trail, warn/info log lines, and a short in-memory list of recent events for the
 * operator console. Hooks call a method here instead of knowing about each sink.
 *
 * Refusals (auth failures, rate limits, denials, scope denials) are aggregated per client and
 * kind (see {@link RefusalAggregator}): the first of an interval is recorded as its own event,
 * the rest as one `refusals_aggregated` record with a count, so a flood cannot rotate the trail
 * away. Counters, metrics and the (bounded) recent-events list still see every refusal.
 * Tool calls, sessions, key reloads, bans and server start/stop are never aggregated. Refusal
 * records may go to a separate audit file (`refusalAudit`), keeping the main trail free of
 * high-volume records.
 */

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { CallContext, McpEventSink, RpcError, ToolCallEvent } from '../mcp/policy.js';
import type { Principal } from '../security/identity.js';
import { clientKey } from '../security/client-ip.js';
import type { ReloadEvent } from '../security/key-source.js';
import type { AuditLog } from './audit.js';
import type { Metrics, RateLimitKind } from './metrics.js';
import { RefusalAggregator, type RefusalSummary } from './refusal-aggregator.js';
import type { ServerStats } from './stats.js';
import { redactText, redactValue } from '../gateway/secrets.js';

const RECENT_LIMIT = 100;

/** Why a request was refused with 403 before authentication or by a per-key rule. */
/** How a user signed in at mcp-warden's own authorization server. */
export type SignInMethod = 'api_key' | 'one_time_code' | 'oidc';

export type DenialReason = 'ip_rule' | 'banned' | 'host' | 'origin' | 'key_ip' | 'header_mismatch';

/** One entry of the recent-events list shown to operators (no secrets, bounded strings). */
export interface RecentEvent {
  readonly time: string;
  readonly type: string;
  readonly ip?: string | undefined;
  readonly principal?: string | undefined;
  readonly reason?: string | undefined;
  readonly tool?: string | undefined;
}

export interface SecurityEventsOptions {
  readonly stats: ServerStats;
  readonly logger: Logger;
  readonly metrics?: Metrics | undefined;
  readonly audit?: AuditLog | undefined;
  /** Where refusal records and their aggregates go; defaults to `audit`. */
  readonly refusalAudit?: AuditLog | undefined;
  readonly auditArguments?: 'none' | 'hash' | 'full';
  /** Aggregation of repeated refusals (interval 0: every refusal is recorded). */
  readonly aggregate?: { readonly intervalMs: number; readonly maxTracked?: number; readonly now?: () => number };
}

/** What the first refusal of a client and kind recorded, kept for its summary. */
interface RefusalLabel {
  readonly event: string;
  readonly reason: string;
  /** The client key: the IPv4 address, or the IPv6 /64 the refusals were counted under. */
  readonly client: string;
  readonly principal: string | undefined;
}

/** Tool arguments as the audit trail records them (`full`: with every secret redacted). */
function auditedArguments(mode: 'none' | 'hash' | 'full', request: CallContext['request']): unknown {
  if (mode === 'none') return undefined;
  const args = request.params?.['arguments'] ?? {};
  if (mode === 'full') return redactValue(args);
  return `sha256:${createHash('sha256').update(JSON.stringify(args)).digest('hex')}`;
}

/** Largest tool result (JSON characters) the audit trail records in `full` mode; a larger one is recorded as its hash. */
export const MAX_AUDITED_RESULT_CHARS = 8192;

/** A tool result as the `full` audit trail records it: redacted, or its hash when large. */
function auditedResult(mode: 'none' | 'hash' | 'full', result: unknown): unknown {
  if (mode !== 'full' || result === undefined) return undefined;
  const redacted = redactValue(result);
  const text = JSON.stringify(redacted);
  return text.length <= MAX_AUDITED_RESULT_CHARS ? redacted : `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** A tool's pin verdict changed (gateway). */
export interface PinTransitionEvent {
  readonly upstream: string;
  readonly tool: string;
  readonly digest: string;
  readonly verdict: string;
  readonly previous: string | undefined;
  readonly pinnedDigest: string | undefined;
}

/** Secrets found in what passed through the gateway (kinds and JSON Pointers, never a value). */
export interface SecretFoundEvent {
  readonly upstream: string;
  readonly kind: 'tool' | 'prompt' | 'resource';
  readonly name: string | undefined;
  readonly where: 'arguments' | 'result';
  readonly findings: ReadonlyArray<{ readonly kind: string; readonly path: string; readonly where: 'key' | 'value' }>;
  readonly truncated: boolean;
  readonly action: 'pass' | 'redacted' | 'blocked';
  readonly principal: string;
  readonly session: string | undefined;
}

/** Findings one audit record lists at most (the count is recorded too). */
const MAX_AUDITED_FINDINGS = 20;

const ALLOWED_VERDICTS = new Set(['pinned', 'new-allowed']);

export class SecurityEvents implements McpEventSink {
  readonly #stats: ServerStats;
  readonly #logger: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #audit: AuditLog | undefined;
  readonly #refusalAudit: AuditLog | undefined;
  readonly #auditArguments: 'none' | 'hash' | 'full';
  readonly #recent: RecentEvent[] = [];
  readonly #refusals: RefusalAggregator<RefusalLabel>;

  constructor(options: SecurityEventsOptions) {
    this.#stats = options.stats;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#audit = options.audit;
    this.#refusalAudit = options.refusalAudit ?? options.audit;
    this.#auditArguments = options.auditArguments ?? 'none';
    this.#refusals = new RefusalAggregator({
      intervalMs: options.aggregate?.intervalMs ?? 0,
      maxTracked: options.aggregate?.maxTracked,
      now: options.aggregate?.now,
      onSummary: (summary) => this.#summarize(summary),
    });
  }

  /** Writes the pending refusal summaries (at shutdown, before the audit trail closes). */
  close(): void {
    this.#refusals.close();
  }

  /** The newest events first. */
  recent(limit = 20): RecentEvent[] {
    return this.#recent.slice(-limit).reverse();
  }

  /** Authenticated at the start of a session or on an API route (not on every MCP message). */
  authSuccess(ip: string, principal: Principal, route: string): void {
    this.#audit?.record({ event: 'auth_success', ip, principal: principal.id, kind: principal.kind, route });
  }

  authFailure(ip: string, reason: string, route: string): void {
    this.#stats.authFailure();
    this.#metrics?.authFailure(reason);
    this.#remember({ type: 'auth_failure', ip, reason });
    if (this.#first('auth_failure', reason, ip, undefined)) this.#refusalAudit?.record({ event: 'auth_failure', ip, reason, route });
  }

  /**
   * A sign-in at mcp-warden's own authorization server: which key (or `oidc:` identity) let which
   * client in, and how (`api_key`, `one_time_code`, `oidc`); main trail, like auth_success.
   */
  oauthSignIn(ip: string, keyId: string, clientId: string, method: SignInMethod): void {
    this.#remember({ type: 'oauth_sign_in', ip, principal: keyId, reason: method });
    this.#audit?.record({ event: 'oauth_sign_in', ip, principal: keyId, client: clientId.slice(0, 64), method });
  }

  /**
   * An operator made a one-time sign-in code for a key (`mcp-warden oauth code`): who, for which
   * key, until when. Never the code. Main trail: it is an operator action.
   */
  oauthCodeIssued(ip: string, operator: Principal, keyId: string, expiresAt: number): void {
    this.#remember({ type: 'oauth_code_issued', ip, principal: operator.id });
    this.#audit?.record({ event: 'oauth_code_issued', ip, principal: operator.id, key: keyId, expires: new Date(expiresAt).toISOString() });
  }

  /**
   * A one-time sign-in code refused on the consent page: an authentication failure (brute-force
   * guard, counters) whose audit record names the key the code was for, when it was a real code.
   */
  signInCodeRefused(ip: string, reason: string, keyId: string | undefined): void {
    this.#stats.authFailure();
    this.#metrics?.authFailure(reason);
    this.#remember({ type: 'auth_failure', ip, reason, principal: keyId });
    if (this.#first('auth_failure', reason, ip, keyId)) this.#refusalAudit?.record({ event: 'auth_failure', ip, reason, route: '/oauth/authorize', method: 'one_time_code', key: keyId });
  }

  /**
   * A refusal at the authorization server's endpoints: `error` is the RFC code sent, `reason`
   * the tagged internal reason (`pkce_mismatch`, `refresh_reused`, `csrf`...). A reused refresh
   * token is a theft signal: it is logged at warn too.
   */
  oauthRefused(ip: string, error: string, reason: string, route: string): void {
    this.#remember({ type: 'oauth_refused', ip, reason });
    if (reason === 'refresh_reused') this.#logger.warn({ ip, reason }, 'refresh token reused: its grant is revoked');
    if (this.#first('oauth_refused', reason, ip, undefined)) this.#refusalAudit?.record({ event: 'oauth_refused', ip, error, reason, route });
  }

  /** `tool`: the configured name of the tool whose per-tool limit refused the call (never a name from the request). */
  rateLimited(ip: string, limit: RateLimitKind, principal?: Principal, tool?: string): void {
    this.#stats.limited();
    this.#metrics?.rateLimited(limit);
    this.#remember({ type: 'rate_limited', ip, reason: limit, principal: principal?.id, tool });
    if (this.#first('rate_limited', limit, ip, principal?.id)) this.#refusalAudit?.record({ event: 'rate_limited', ip, limit, principal: principal?.id, tool });
  }

  denied(ip: string, reason: DenialReason, principal?: Principal): void {
    this.#stats.denied();
    this.#metrics?.denied(reason);
    this.#remember({ type: 'denied', ip, reason, principal: principal?.id });
    if (this.#first('denied', reason, ip, principal?.id)) this.#refusalAudit?.record({ event: 'denied', ip, reason, principal: principal?.id });
  }

  banned(ip: string, until: number): void {
    const untilIso = new Date(until).toISOString();
    this.#logger.warn({ ip, until: untilIso }, 'client banned after repeated authentication failures');
    this.#audit?.record({ event: 'ip_banned', ip, until: untilIso });
    this.#remember({ type: 'ip_banned', ip, reason: `until ${untilIso}` });
  }

  scopeDenied(ip: string, principal: Principal, tool: string): void {
    this.#stats.scopeDenied();
    this.#metrics?.denied('scope');
    this.#remember({ type: 'scope_denied', ip, principal: principal.id, tool });
    // Per tool: probing for other tools stays visible (the table and the rate limit bound it).
    if (!this.#first('scope_denied', tool, ip, principal.id)) return;
    this.#logger.info({ ip, principal: principal.id, tool }, 'tool call outside the caller\u2019s scope refused');
    this.#refusalAudit?.record({ event: 'scope_denied', ip, principal: principal.id, tool });
  }

  toolCall(event: ToolCallEvent): void {
    this.#stats.toolCall(event);
    this.#metrics?.toolCall(event.tool, event.outcome);
    this.#audit?.record({
      event: 'tool_call',
      tool: event.tool,
      principal: event.principal.id,
      ip: event.clientIp,
      session: event.sessionId,
      outcome: event.outcome,
      durationMs: Math.round(event.durationMs * 100) / 100,
      arguments: event.request === undefined ? undefined : auditedArguments(this.#auditArguments, event.request),
      result: auditedResult(this.#auditArguments, event.result),
    });
  }

  rpcError(context: CallContext, original: RpcError): void {
    this.#logger.debug({ method: context.method, code: original.code, detail: redactText(original.message.slice(0, 2000)) }, 'mcp error answer');
  }

  /**
   * A gateway tool's pin verdict changed: a `tool_pin` audit record, a log line (warn when the
   * tool is now hidden and refused, info when it is allowed again) and a metric.
   */
  pinTransition(event: PinTransitionEvent): void {
    const held = !ALLOWED_VERDICTS.has(event.verdict);
    const fields = { upstream: event.upstream, tool: event.tool, verdict: event.verdict, previous: event.previous, digest: event.digest, pinnedDigest: event.pinnedDigest };
    if (held) this.#logger.warn(fields, event.verdict === 'changed' ? 'upstream tool definition changed since it was pinned; hidden and refused until re-pinned' : 'new upstream tool held until pinned');
    else this.#logger.info(fields, 'upstream tool allowed');
    this.#audit?.record({ event: 'tool_pin', ...fields });
    this.#metrics?.pinTransition(event.upstream, event.verdict);
    this.#remember({ type: 'tool_pin', reason: event.verdict, tool: `${event.upstream}/${event.tool}` });
  }

  /** Secrets passed through the gateway: a `secret_detected` audit record, a warn line, a metric. */
  secretFound(event: SecretFoundEvent): void {
    const findings = event.findings.slice(0, MAX_AUDITED_FINDINGS).map((finding) => ({ kind: finding.kind, path: finding.path, where: finding.where }));
    const fields = {
      upstream: event.upstream,
      kind: event.kind,
      name: event.name,
      in: event.where,
      action: event.action,
      findings,
      findingCount: event.findings.length,
      truncated: event.truncated,
      principal: event.principal,
      session: event.session,
    };
    this.#logger.warn(fields, `secret found in upstream ${event.where === 'arguments' ? 'call arguments' : 'result'}`);
    this.#audit?.record({ event: 'secret_detected', ...fields });
    this.#metrics?.secretFound(event.where, event.action);
    this.#remember({ type: 'secret_detected', principal: event.principal, reason: `${event.where}:${event.action}`, tool: event.name === undefined ? event.upstream : `${event.upstream}/${event.name}` });
  }

  keysReload(event: ReloadEvent): void {
    if (event.ok) this.#logger.info({ keys: event.keys, active: event.active, trigger: event.trigger }, 'keys file reloaded');
    else this.#logger.error({ error: event.error, trigger: event.trigger }, 'keys file reload failed; keeping the previous keys');
    this.#audit?.record({ event: 'keys_reload', ...event });
    this.#remember({ type: 'keys_reload', reason: event.ok ? `${event.active} active keys` : 'failed' });
  }

  sessionCreated(ip: string, principal: Principal, sessionId: string): void {
    this.#audit?.record({ event: 'session_created', ip, principal: principal.id, session: sessionId });
  }

  /** True when this refusal is the first of its kind from the client in the interval (record it). */
  #first(event: string, reason: string, ip: string, principal: string | undefined): boolean {
    if (!this.#refusals.enabled) return true;
    const client = clientKey(ip);
    return this.#refusals.note(`${event}:${reason}`, principal === undefined ? client : `${client} ${principal}`, { event, reason, client, principal });
  }

  #summarize(summary: RefusalSummary<RefusalLabel>): void {
    const { label } = summary;
    const ip = summary.others ? '(others)' : label.client;
    const event = summary.kind === '*' ? '*' : label.event;
    const detail = summary.kind === '*' ? undefined : label.reason;
    const scope = event === 'scope_denied';
    this.#refusalAudit?.record({
      event: 'refusals_aggregated',
      kind: event,
      reason: scope ? undefined : detail,
      tool: scope ? detail : undefined,
      ip,
      principal: summary.others ? undefined : label.principal,
      count: summary.count,
      from: new Date(summary.first).toISOString(),
      to: new Date(summary.last).toISOString(),
    });
  }

  #remember(event: Omit<RecentEvent, 'time'>): void {
    this.#recent.push({ time: new Date().toISOString(), ...event });
    if (this.#recent.length > RECENT_LIMIT) this.#recent.splice(0, this.#recent.length - RECENT_LIMIT);
  }
}
