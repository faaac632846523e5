/**
 * @module http/app
 * The Fastify application: hooks in the order a request meets them, then routes.
 *
 *   onRequest (global): security headers → IP rules and bans → rate limit → Host/Origin guard
 *                       → CORS (preflight)
 *   onRequest (route):  authentication (API key or JWT) → per-credential IP and rate limits,
 *                       on /mcp, /api/* and /metrics
 *   onResponse:         one log line, counters
 */

import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  type HookHandlerDoneFunction,
  type onRequestHookHandler,
} from 'fastify';
import cors from '@fastify/cors';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { TrustProxy } from '../config/options.js';
import { isWardenError, WardenError, type WardenErrorCode } from '../errors.js';
import type { ToolCatalog } from '../mcp/catalog.js';
import { ANONYMOUS, type StreamableHttpHandler } from '../mcp/transport/streamable-http.js';
import type { ServerStats } from '../observability/stats.js';
import type { RateLimitStore } from '../store/types.js';
import './fastify-types.js';
import type { Metrics } from '../observability/metrics.js';
import type { HealthReport } from '../replication.js';
import type { SecurityEvents } from '../observability/security-events.js';
import type { Authenticator } from '../security/authenticator.js';
import type { BanList } from '../security/ban-list.js';
import type { IpVerdict } from '../security/ip-rules.js';
import type { Challenges } from './challenge.js';
import { createAuthHook } from './hooks/auth.js';
import { createIpGuard } from './hooks/ip-guard.js';
import { createPrincipalLimits } from './hooks/principal-limits.js';
import { createHostOriginGuard } from './hooks/host-origin.js';
import { createRateLimitHook } from './hooks/rate-limit.js';
import { createRequestLog, logRefusal, type RefusedRequestLog } from './hooks/request-log.js';
import { baseSecurityHeaders, createSecurityHeaders } from './hooks/security-headers.js';
import { parseJsonBody } from './json-body.js';
import type { PageInfo } from './page.js';
import { registerApiRoutes } from './routes/api.js';
import { registerMcpRoutes } from './routes/mcp.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerOAuthMetadata, type ProtectedResourceMetadata } from './routes/oauth-metadata.js';
import { registerPublicRoutes } from './routes/public.js';
import { replyError } from './wire.js';

export interface AppDependencies {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  readonly authenticator: Authenticator;
  readonly challenges: Challenges;
  readonly bans: BanList;
  readonly ipRules: ((address: string) => IpVerdict) | undefined;
  readonly rateLimitStore: RateLimitStore;
  /** Counts requests per credential (keys with their own rate limit). */
  readonly keyRateLimitStore: RateLimitStore;
  readonly events: SecurityEvents;
  readonly metrics: Metrics | undefined;
  readonly mcp: StreamableHttpHandler;
  readonly catalog: ToolCatalog;
  readonly stats: ServerStats;
  readonly configSummary: () => Readonly<Record<string, unknown>>;
  readonly securityStatus: () => Readonly<Record<string, unknown>>;
  /** Liveness with the shared-state condition (`degraded` while Redis is unreachable). */
  readonly health: () => HealthReport;
  readonly pageInfo: (host: string | undefined, protocol: string) => PageInfo;
  /** Protected resource metadata, when OAuth bearer JWTs are accepted. */
  readonly oauthMetadata?: (() => Promise<ProtectedResourceMetadata>) | undefined;
  /** Aggregates the log lines of refused requests per client and failure (absent: a line each). */
  readonly refusedRequests?: RefusedRequestLog | undefined;
  /**
   * False builds the app with no IP rules, rate limit, Host/Origin guard, authentication or
   * request log: only for measuring what those layers cost (the benchmark). Not reachable
   * from the CLI, environment or config file.
   */
  readonly security?: boolean;
}

/** Fastify's trustProxy option for our setting (proxy-addr semantics). */
export function fastifyTrustProxy(trust: TrustProxy): FastifyServerOptions['trustProxy'] {
  switch (trust.kind) {
    case 'none':
      return false;
    case 'hops': {
      // Trust the nearest `hops` proxies (proxy-addr: hop index 0 is the socket peer).
      const hops = trust.hops;
      return (_address: string, hop: number) => hop < hops;
    }
    case 'addresses':
      return [...trust.ranges];
  }
}

const FASTIFY_CODES: Readonly<Record<string, WardenErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'WARDEN_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'WARDEN_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'WARDEN_ERR_PARSE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'WARDEN_ERR_INVALID_REQUEST',
  FST_ERR_CTP_INVALID_TYPE: 'WARDEN_ERR_UNSUPPORTED_MEDIA_TYPE',
};

/** Maps anything thrown during a request to a WardenError (unknown → internal). */
export function toWardenError(error: unknown): WardenError {
  if (isWardenError(error)) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && FASTIFY_CODES[code] !== undefined) {
    return new WardenError(FASTIFY_CODES[code] as WardenErrorCode, { reason: code.toLowerCase(), cause: error });
  }
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 404) return new WardenError('WARDEN_ERR_NOT_FOUND', { cause: error });
    if (status === 413) return new WardenError('WARDEN_ERR_BODY_TOO_LARGE', { cause: error });
    if (status === 415) return new WardenError('WARDEN_ERR_UNSUPPORTED_MEDIA_TYPE', { cause: error });
    return new WardenError('WARDEN_ERR_INVALID_REQUEST', { reason: typeof code === 'string' ? code.toLowerCase() : 'client_error', cause: error });
  }
  return new WardenError('WARDEN_ERR_INTERNAL', { reason: 'unhandled', cause: error });
}

/** A request id generator: random per-process prefix + counter (never taken from the client). */
function requestIds(): () => string {
  const prefix = Math.random().toString(36).slice(2, 8);
  let counter = 0;
  return () => `${prefix}-${(++counter).toString(36)}`;
}

/** The stand-in for authentication when security is off (benchmark only). */
function admitAnonymous(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  request.principal = ANONYMOUS;
  done();
}

/** Builds the Fastify app (not listening yet). */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config, stats, events } = deps;
  const frameworkHeaders = baseSecurityHeaders({ hsts: config.publicUrl?.startsWith('https://') === true });
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Our onResponse hook writes the one line per request; Fastify's own two lines are off.
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request (a measurable cost at 10k req/s): our lines carry reqId themselves.
    childLoggerFactory: (logger) => logger,
    trustProxy: fastifyTrustProxy(config.trustProxy),
    bodyLimit: config.bodyLimit,
    // Request ids are ours; a client-supplied X-Request-Id would let it forge log correlation.
    requestIdHeader: false,
    genReqId: requestIds(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Requests Fastify refuses before any hook (a malformed URL, a bad Content-Type header)
    // still get our error body, our security headers and a log line.
    frameworkErrors: (error, request, reply) => {
      reply.headers(frameworkHeaders);
      const failure = `invalid_request:${String(error.code).toLowerCase()}`;
      if (logRefusal(deps.refusedRequests, request.ip, failure, 400)) request.log.info({ reqId: request.id, method: request.method, status: 400, ip: request.ip, failure }, 'request');
      replyError(request, reply, 'WARDEN_ERR_INVALID_REQUEST', String(error.code).toLowerCase());
    },
  }) as unknown as FastifyInstance;

  app.decorateRequest('principal', null);
  app.decorateRequest('authOutcome', 'public');
  app.decorateRequest('failure', null);
  app.decorateRequest('mcpMethod', null);
  app.decorateRequest('mcpTool', null);

  // Only JSON bodies exist here; Fastify's text/plain parser is removed so other types get 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: config.bodyLimit }, (request, body, done) => {
    // Clients send Content-Type on body-less GET/DELETE too; only a POST must carry JSON.
    if (body === '' && request.method !== 'POST') {
      done(null, undefined);
      return;
    }
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  const secured = deps.security !== false;
  app.addHook('onRequest', createSecurityHeaders({ hsts: config.publicUrl?.startsWith('https://') === true }));
  if (secured) {
    app.addHook('onRequest', createIpGuard({ rules: deps.ipRules, bans: deps.bans, events }));
    app.addHook('onRequest', createRateLimitHook({ store: deps.rateLimitStore, limit: config.rateLimit, events }));
    app.addHook(
      'onRequest',
      createHostOriginGuard({
        bindHost: config.host,
        allowedHosts: config.allowedHosts,
        allowedOrigins: config.corsOrigins,
        publicUrl: config.publicUrl,
        events,
      }),
    );
  }
  await app.register(cors, {
    origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false,
    methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Accept', 'Mcp-Session-Id', 'MCP-Protocol-Version', 'Last-Event-ID'],
    exposedHeaders: ['Mcp-Session-Id', 'WWW-Authenticate', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy'],
    maxAge: 600,
    strictPreflight: true,
  });
  if (secured) app.addHook('onResponse', createRequestLog({ stats, metrics: deps.metrics, refusals: deps.refusedRequests }));

  app.setErrorHandler((error, request, reply) => {
    const wardenError = toWardenError(error);
    if (wardenError.status >= 500) request.log.error({ reqId: request.id, err: error }, 'request failed');
    else request.log.debug({ reqId: request.id, reason: wardenError.reason, err: error }, 'request rejected');
    replyError(request, reply, wardenError.code, wardenError.reason, wardenError.headers);
  });
  app.setNotFoundHandler((request, reply) => {
    replyError(request, reply, 'WARDEN_ERR_NOT_FOUND', 'route');
  });

  const guards: onRequestHookHandler[] = secured
    ? [
        createAuthHook({ authenticator: deps.authenticator, challenges: deps.challenges, bans: deps.bans, events }),
        createPrincipalLimits({ store: deps.keyRateLimitStore, events }),
      ]
    : [admitAnonymous];
  registerPublicRoutes(app, { pageInfo: deps.pageInfo, health: deps.health });
  registerApiRoutes(app, { guards, catalog: deps.catalog, stats, configSummary: deps.configSummary, securityStatus: deps.securityStatus });
  registerMcpRoutes(app, { handler: deps.mcp, guards });
  if (deps.metrics !== undefined) {
    registerMetricsRoute(app, { metrics: deps.metrics, guards, token: config.metricsToken, challenges: deps.challenges, events, bans: deps.bans });
  }
  if (deps.oauthMetadata !== undefined) registerOAuthMetadata(app, deps.oauthMetadata);

  return app;
}
