/**
 * @module observability/metrics
 * Prometheus metrics (prom-client, a private registry): requests by route and status, latency,
 * auth failures by reason, rate limiting by limit, tool calls by tool and outcome, active
 * sessions, bans, plus the process defaults (event-loop lag, memory, CPU).
 *
 * Label children are cached per label combination, so counting a request is a map lookup and
 * an increment rather than prom-client's label hashing on every call.
 */

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const PREFIX = 'mcp_warden_';

/** Latency buckets in seconds: sub-millisecond to seconds (tool calls can be slow). */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface MetricsOptions {
  readonly activeSessions: () => number;
  readonly activeBans: () => number;
  /** TCP connections held (the connection guard's count). */
  readonly openConnections?: () => number;
}

/** What reached the process-level handlers. */
export type ProcessErrorKind = 'unhandled_rejection' | 'uncaught_exception';

/** Which rate limit refused a request: per client IP, per credential, per credential and tool. */
export type RateLimitKind = 'ip' | 'key' | 'tool';

export class Metrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'route' | 'method' | 'status'>;
  readonly #latency: Histogram<'route'>;
  readonly #authFailures: Counter<'reason'>;
  readonly #rateLimited: Counter<'limit'>;
  readonly #toolCalls: Counter<'tool' | 'outcome'>;
  readonly #denied: Counter<'reason'>;
  readonly #redisFallbacks: Counter;
  readonly #processErrors: Counter<'kind'>;
  readonly #busDropped: Counter<'reason'>;
  readonly #recordsRejected: Counter<'record'>;
  readonly #connectionsRefused: Counter<'reason'>;
  readonly #pinTransitions: Counter<'upstream' | 'verdict'>;
  readonly #secrets: Counter<'where' | 'action'>;
  #redisUp: (() => boolean) | undefined;
  readonly #requestChildren = new Map<string, { inc(): void }>();
  readonly #toolChildren = new Map<string, { inc(): void }>();
  readonly #latencyChildren = new Map<string, { observe(value: number): void }>();

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    this.#requests = new Counter({ name: `${PREFIX}http_requests_total`, help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers });
    this.#latency = new Histogram({ name: `${PREFIX}http_request_duration_seconds`, help: 'HTTP request latency by route', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers });
    this.#authFailures = new Counter({ name: `${PREFIX}auth_failures_total`, help: 'Authentication failures by reason', labelNames: ['reason'], registers });
    this.#rateLimited = new Counter({ name: `${PREFIX}rate_limited_total`, help: 'Requests refused by a rate limit, by limit (ip, key, tool)', labelNames: ['limit'], registers });
    this.#toolCalls = new Counter({ name: `${PREFIX}tool_calls_total`, help: 'Tool calls by tool and outcome', labelNames: ['tool', 'outcome'], registers });
    this.#denied = new Counter({ name: `${PREFIX}denied_total`, help: 'Requests refused with 403, by reason (ip_rule, banned, host, origin, scope)', labelNames: ['reason'], registers });
    this.#redisFallbacks = new Counter({ name: `${PREFIX}redis_fallbacks_total`, help: 'Calls answered from per-replica state because Redis failed or was down', registers });
    this.#processErrors = new Counter({ name: `${PREFIX}process_errors_total`, help: 'Errors that reached the process: unhandled_rejection (logged, serving goes on), uncaught_exception (logged, then a graceful stop)', labelNames: ['kind'], registers });
    this.#busDropped = new Counter({
      name: `${PREFIX}bus_dropped_total`,
      help: 'Messages between replicas dropped: bad_mac, stale, replay, malformed, schema, request (a relayed server-to-client request), handler_error, ...',
      labelNames: ['reason'],
      registers,
    });
    this.#recordsRejected = new Counter({
      name: `${PREFIX}redis_records_rejected_total`,
      help: 'Records in Redis ignored because their integrity check failed, by record (session, restriction, ban, event)',
      labelNames: ['record'],
      registers,
    });
    this.#connectionsRefused = new Counter({
      name: `${PREFIX}connections_refused_total`,
      help: 'TCP connections refused over a connection cap, by cap (total, per_address)',
      labelNames: ['reason'],
      registers,
    });
    this.#pinTransitions = new Counter({
      name: `${PREFIX}gateway_pin_transitions_total`,
      help: 'Gateway tool pin verdict changes, by upstream and new verdict (pinned, changed, new-allowed, new-held)',
      labelNames: ['upstream', 'verdict'],
      registers,
    });
    this.#secrets = new Counter({
      name: `${PREFIX}gateway_secrets_total`,
      help: 'Gateway values in which secrets were found, by where (arguments, result) and action (pass, redacted, blocked)',
      labelNames: ['where', 'action'],
      registers,
    });
    const openConnections = options.openConnections;
    if (openConnections !== undefined) {
      new Gauge({
        name: `${PREFIX}open_connections`,
        help: 'TCP connections held by this process (stalled, streaming and lingering ones included)',
        registers,
        collect() {
          this.set(openConnections());
        },
      });
    }
    const redisUp = (): number | undefined => (this.#redisUp === undefined ? undefined : this.#redisUp() ? 1 : 0);
    new Gauge({
      name: `${PREFIX}redis_up`,
      help: '1 while the shared-state Redis is reachable (absent without --redis-url)',
      registers,
      collect() {
        const value = redisUp();
        if (value !== undefined) this.set(value);
      },
    });
    new Gauge({
      name: `${PREFIX}active_sessions`,
      help: 'MCP sessions held by this process',
      registers,
      collect() {
        this.set(options.activeSessions());
      },
    });
    new Gauge({
      name: `${PREFIX}active_bans`,
      help: 'Clients currently banned after repeated authentication failures',
      registers,
      collect() {
        this.set(options.activeBans());
      },
    });
  }

  /** Counts a finished request (route is the route pattern, never the raw URL). */
  request(route: string, method: string, status: number, seconds: number): void {
    const key = `${route} ${method} ${status}`;
    let counter = this.#requestChildren.get(key);
    if (counter === undefined) {
      counter = this.#requests.labels(route, method, String(status));
      this.#requestChildren.set(key, counter);
    }
    counter.inc();
    let histogram = this.#latencyChildren.get(route);
    if (histogram === undefined) {
      histogram = this.#latency.labels(route);
      this.#latencyChildren.set(route, histogram);
    }
    histogram.observe(seconds);
  }

  authFailure(reason: string): void {
    this.#authFailures.labels(reason).inc();
  }

  rateLimited(limit: RateLimitKind): void {
    this.#rateLimited.labels(limit).inc();
  }

  toolCall(tool: string, outcome: string): void {
    // Tool names are the server's (unknown ones are counted as "(unknown)"), so the cache is bounded.
    const key = `${tool}\u0000${outcome}`;
    let counter = this.#toolChildren.get(key);
    if (counter === undefined) {
      counter = this.#toolCalls.labels(tool, outcome);
      this.#toolChildren.set(key, counter);
    }
    counter.inc();
  }

  redisFallback(): void {
    this.#redisFallbacks.inc();
  }

  /** An error reached the process-level handlers (`kind` is a fixed set). */
  processError(kind: ProcessErrorKind): void {
    this.#processErrors.labels(kind).inc();
  }

  /** A message between replicas was dropped (reasons are a fixed set). */
  busDropped(reason: string): void {
    this.#busDropped.labels(reason).inc();
  }

  /** A record in Redis failed its integrity check and was ignored. */
  recordRejected(record: string): void {
    this.#recordsRejected.labels(record).inc();
  }

  /** Reports Redis reachability in `redis_up`. */
  watchRedis(healthy: () => boolean): void {
    this.#redisUp = healthy;
  }

  connectionRefused(reason: 'total' | 'per_address'): void {
    this.#connectionsRefused.labels(reason).inc();
  }

  denied(reason: string): void {
    this.#denied.labels(reason).inc();
  }

  /** A gateway tool's pin verdict changed (upstream names come from the config: bounded). */
  pinTransition(upstream: string, verdict: string): void {
    this.#pinTransitions.labels(upstream, verdict).inc();
  }

  /** The gateway found secrets in a tool's arguments or a result. */
  secretFound(where: 'arguments' | 'result', action: 'pass' | 'redacted' | 'blocked'): void {
    this.#secrets.labels(where, action).inc();
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
