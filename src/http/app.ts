/**
 * @module http/app
 * The Fastify application, built as a list: Fastify options, request decorators and the JSON
 * body parser, the global hooks in the order a request meets them, error handlers, then routes.
 *
 *   onRequest (global): security headers → readiness (503 on /mcp and /api/* until ready)
 *                       → IP rules and bans → rate limit → Host/Origin guard → CORS (preflight;
 *                       http/hooks/cors-policy: listed origins, any origin on the public OAuth endpoints)
 *   onRequest (route):  authentication (API key or JWT) → per-credential IP and rate limits,
 *                       on /mcp, /api/* and /metrics → operator role, on /api/status and /metrics
 *   preHandler (route): per-tool rate limits on /mcp, from the parsed body (--tool-rate-limit)
 *   onResponse:         one log line, counters
 *
 * Requests refused before any hook meet the same guards: malformed URLs through
 * `frameworkErrors` (http/framework-errors), and what Node's parser refuses through
 * `clientErrorHandler`, and CONNECT requests through the server's `connect` event (both
 * http/client-error).
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
  type onResponseHookHandler,
} from 'fastify';
import cors from '@fastify/cors';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { TrustProxy } from '../config/options.js';
import type { ToolCatalog } from '../mcp/catalog.js';
import type { StreamableHttpHandler } from '../mcp/transport/streamable-http.js';
import { ANONYMOUS } from '../security/identity.js';
import type { ServerStats } from '../observability/stats.js';
import type { RateLimitStore } from '../store/types.js';
import './fastify-types.js';
import type { Metrics } from '../observability/metrics.js';
import type { HealthReport } from '../shared-state/index.js';
import type { SecurityEvents } from '../observability/security-events.js';
import type { Authenticator } from '../security/authenticator.js';
import type { BanList } from '../security/ban-list.js';
import { createProxyTrust, forwardedClient } from '../security/client-ip.js';
import type { IpVerdict } from '../security/ip-rules.js';
import type { Challenges } from './challenge.js';
import { createAuthHook } from './hooks/auth.js';
import { createIpGuard } from './hooks/ip-guard.js';
import { createOperatorGuard } from './hooks/operator.js';
import { createPrincipalLimits } from './hooks/principal-limits.js';
import { createToolLimits } from './hooks/tool-limits.js';
import { createHostOriginGuard, MAX_HEADER_COUNT } from './hooks/host-origin.js';
import { createCorsPolicy, publicOAuthPaths } from './hooks/cors-policy.js';
import { createRateLimitHook } from './hooks/rate-limit.js';
import { createRequestLog, logRefusal, type RefusedRequestLog } from './hooks/request-log.js';
import { baseSecurityHeaders, createSecurityHeaders } from './hooks/security-headers.js';
import { parseJsonBody } from './json-body.js';
import { createParserRefusals } from './client-error.js';
import { createFrameworkErrorHandler } from './framework-errors.js';
import type { PageInfo } from './page.js';
import type { Readiness } from '../shared-state/readiness.js';
import { createReadinessGate } from './hooks/readiness.js';
import { registerApiRoutes } from './routes/api.js';
import { registerMcpRoutes } from './routes/mcp.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerOAuthMetadata, type ProtectedResourceMetadata } from './routes/oauth-metadata.js';
import { registerPublicRoutes } from './routes/public.js';
import { registerOAuthServerRoutes } from './routes/oauth-server.js';
import { registerSignInCodeRoute } from './routes/oauth-codes.js';
import type { AuthorizationServer } from '../security/oauth/authorization-server.js';
import type { SigningKeys } from '../security/oauth/signing-keys.js';
import { replyError, toWardenError } from './error-reply.js';

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
  /** Counts calls per credential and tool (`--tool-rate-limit`), one store per distinct window. */
  readonly toolRateLimitStores: ReadonlyMap<number, RateLimitStore>;
  readonly events: SecurityEvents;
  readonly metrics: Metrics | undefined;
  readonly mcp: StreamableHttpHandler;
  /** A gateway's upstreams alone (`/mcp/<name>`), and how their tools are named in scopes and limits. */
  readonly upstreams?: { readonly handlers: ReadonlyMap<string, StreamableHttpHandler>; readonly separator: string } | undefined;
  readonly catalog: ToolCatalog;
  readonly stats: ServerStats;
  readonly configSummary: () => Readonly<Record<string, unknown>>;
  readonly securityStatus: () => Readonly<Record<string, unknown>>;
  /** Liveness with the shared-state condition (`degraded` while Redis is unreachable). */
  readonly health: () => HealthReport;
  /** Readiness (see shared-state/readiness); absent: always ready. */
  readonly readiness?: Readiness | undefined;
  readonly pageInfo: (host: string | undefined, protocol: string) => PageInfo;
  /** Protected resource metadata, when OAuth bearer JWTs are accepted. */
  readonly oauthMetadata?: (() => Promise<ProtectedResourceMetadata>) | undefined;
  /** mcp-warden's own authorization server (`--oauth-issuer`): its routes are served. */
  readonly authorizationServer?: { readonly server: AuthorizationServer; readonly signingKeys: SigningKeys; readonly now: () => number } | undefined;
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

/**
 * The global guards, built once: the onRequest hooks use them, and so do the refusals made
 * before any hook (framework errors). Absent when security is off (benchmark only).
 */
interface GlobalGuards {
  readonly ipGuard: onRequestHookHandler;
  readonly rateLimit: onRequestHookHandler;
  readonly logRequest: onResponseHookHandler;
}

function globalGuards(deps: AppDependencies): GlobalGuards | undefined {
  if (deps.security === false) return undefined;
  const { config, events } = deps;
  return {
    ipGuard: createIpGuard({ rules: deps.ipRules, bans: deps.bans, events }),
    rateLimit: createRateLimitHook({ store: deps.rateLimitStore, limit: config.rateLimit, events }),
    logRequest: createRequestLog({ stats: deps.stats, metrics: deps.metrics, refusals: deps.refusedRequests }),
  };
}

/** HSTS only when the public URL says this server is reached over HTTPS. */
function hsts(config: Readonly<Config>): boolean {
  return config.publicUrl?.startsWith('https://') === true;
}

/** The Fastify instance with our options: logging, limits and deadlines, refusals made before any hook. */
function createFastify(deps: AppDependencies, guards: GlobalGuards | undefined): FastifyInstance {
  const { config, stats, events } = deps;
  const frameworkHeaders = baseSecurityHeaders({ hsts: hsts(config) });
  const trustedProxy = createProxyTrust(config.trustProxy);
  // Requests Node's parser refuses (bad framing, invalid header characters, oversized headers), and CONNECT.
  const refusals = createParserRefusals({
    headers: frameworkHeaders,
    guards: guards === undefined ? undefined : { rules: deps.ipRules, bans: deps.bans, store: deps.rateLimitStore, limit: config.rateLimit, events, trustedProxy },
    logger: deps.logger,
    stats,
    metrics: deps.metrics,
  });
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
    // Every phase a client controls is bounded (issue 9 A); SSE responses are not, since Node's
    // request timeout ends once the request has been received. Node checks these deadlines on a
    // timer (30 s by default): check often enough that they hold within a second.
    requestTimeout: config.connections.requestTimeout * 1000,
    keepAliveTimeout: config.connections.keepAliveTimeout * 1000,
    http: { headersTimeout: config.connections.headersTimeout * 1000, requestTimeout: config.connections.requestTimeout * 1000, connectionsCheckingInterval: 500 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Requests Fastify refuses before any hook (a malformed URL) meet the IP rules, bans and
    // rate limit first, then get our 400 body, our security headers and the request log line.
    frameworkErrors: createFrameworkErrorHandler({
      headers: frameworkHeaders,
      guards: guards === undefined ? [] : [guards.ipGuard, guards.rateLimit],
      clientIp: (request) => forwardedClient(request.raw.socket.remoteAddress ?? '', request.headers['x-forwarded-for'] as string | undefined, trustedProxy),
      logRequest: guards?.logRequest,
    }),
    clientErrorHandler: refusals.clientError,
  }) as unknown as FastifyInstance;
  // Node drops a CONNECT without a word when nobody listens: answer it like a parser refusal.
  app.server.on('connect', refusals.connect);

  // Node's header cap, explicit so the Host/Origin guard refuses what the parser would drop.
  app.server.maxHeadersCount = MAX_HEADER_COUNT;
  return app;
}

/** What hooks and handlers record on a request (see http/fastify-types). */
function decorateRequests(app: FastifyInstance): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('authOutcome', 'public');
  app.decorateRequest('failure', null);
  app.decorateRequest('mcpMethod', null);
  app.decorateRequest('mcpTool', null);
}

/** Only JSON bodies exist here; Fastify's text/plain parser is removed so other types get 415. */
function acceptJsonOnly(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (request, body, done) => {
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
}

/** The global hooks in the order a request meets them (the module header lists them). */
async function addGlobalHooks(app: FastifyInstance, deps: AppDependencies, guards: GlobalGuards | undefined): Promise<void> {
  const { config } = deps;
  const isPublicOAuth = publicOAuthPaths({ protectedResource: deps.oauthMetadata !== undefined, authorizationServer: deps.authorizationServer !== undefined && deps.oauthMetadata !== undefined });
  app.addHook('onRequest', createSecurityHeaders({ hsts: hsts(config) }));
  if (deps.readiness !== undefined) app.addHook('onRequest', createReadinessGate(deps.readiness.ready));
  if (guards !== undefined) {
    app.addHook('onRequest', guards.ipGuard);
    app.addHook('onRequest', guards.rateLimit);
    app.addHook(
      'onRequest',
      createHostOriginGuard({
        bindHost: config.host,
        allowedHosts: config.allowedHosts,
        allowedOrigins: config.corsOrigins,
        publicUrl: config.publicUrl,
        anyOrigin: isPublicOAuth,
        events: deps.events,
      }),
    );
  }
  // Listed origins on /mcp and /api/*; any origin, without credentials, on the public OAuth endpoints.
  await app.register(cors, { delegator: createCorsPolicy({ corsOrigins: config.corsOrigins, isPublicOAuth }) });
  if (guards !== undefined) app.addHook('onResponse', guards.logRequest);
}

/** Errors and unknown routes answered through the one reply mapping (http/error-reply). */
function setErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const wardenError = toWardenError(error);
    if (wardenError.status >= 500) request.log.error({ reqId: request.id, err: error }, 'request failed');
    else request.log.debug({ reqId: request.id, reason: wardenError.reason, err: error }, 'request rejected');
    replyError(request, reply, wardenError.code, wardenError.reason, wardenError.headers);
  });
  app.setNotFoundHandler((request, reply) => {
    replyError(request, reply, 'WARDEN_ERR_NOT_FOUND', 'route');
  });
}

/** The routes, each with its route hooks: authentication and per-credential limits, the operator role. */
async function registerRoutes(app: FastifyInstance, deps: AppDependencies): Promise<void> {
  const { config, stats, events } = deps;
  const secured = deps.security !== false;
  const guards: onRequestHookHandler[] = secured
    ? [
        createAuthHook({ authenticator: deps.authenticator, challenges: deps.challenges, bans: deps.bans, events }),
        createPrincipalLimits({ store: deps.keyRateLimitStore, events }),
      ]
    : [admitAnonymous];
  registerPublicRoutes(app, { pageInfo: deps.pageInfo, health: deps.health, readiness: deps.readiness?.state });
  const operatorGuards = secured ? [...guards, createOperatorGuard({ challenges: deps.challenges, events })] : guards;
  registerApiRoutes(app, { guards, operatorGuards, catalog: deps.catalog, stats, configSummary: deps.configSummary, securityStatus: deps.securityStatus });
  const toolLimits = secured ? createToolLimits({ limits: config.toolRateLimit, stores: deps.toolRateLimitStores, events }) : undefined;
  registerMcpRoutes(app, { handler: deps.mcp, guards, toolLimits: toolLimits?.enabled === true ? toolLimits : undefined });
  for (const [name, handler] of deps.upstreams?.handlers ?? []) {
    const separator = deps.upstreams?.separator ?? '__';
    // Per-tool limits name the gateway's tools as /mcp does: one count on both paths.
    const limits = secured ? createToolLimits({ limits: config.toolRateLimit, stores: deps.toolRateLimitStores, events, limitedName: (tool) => `${name}${separator}${tool}` }) : undefined;
    registerMcpRoutes(app, { handler, url: `/mcp/${name}`, guards, toolLimits: limits?.enabled === true ? limits : undefined });
  }
  if (deps.metrics !== undefined) {
    registerMetricsRoute(app, { metrics: deps.metrics, guards: operatorGuards, token: config.metricsToken, challenges: deps.challenges, events, bans: deps.bans });
  }
  if (deps.oauthMetadata !== undefined) registerOAuthMetadata(app, deps.oauthMetadata);
  const own = deps.authorizationServer;
  const metadata = deps.oauthMetadata;
  if (own !== undefined && metadata !== undefined) {
    await registerOAuthServerRoutes(app, { ...own, scopes: async () => [...(await metadata()).scopes_supported], events, bans: deps.bans });
    // One-time sign-in codes stand in for a key on the consent page: key sign-in mode only.
    if (config.authorizationServer?.upstream === undefined) registerSignInCodeRoute(app, { server: own.server, operatorGuards, events });
  }
}

/** Builds the Fastify app (not listening yet). */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const guards = globalGuards(deps);
  const app = createFastify(deps, guards);
  decorateRequests(app);
  acceptJsonOnly(app, deps.config.bodyLimit);
  await addGlobalHooks(app, deps, guards);
  setErrorHandlers(app);
  await registerRoutes(app, deps);
  return app;
}
