/**
 * @module server
 * Composition root: builds the stores, the security layers, the MCP transport, the HTTP app,
 * the logger and the audit trail from a validated configuration, and owns start-up and
 * graceful shutdown. The CLI and the library API both go through {@link createServer}.
 */

import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { configFromValues, type Config } from './config/load.js';
import { buildApp } from './http/app.js';
import { connectionGuardFor } from './http/connection-guard.js';
import { createChallenges } from './http/challenge.js';
import { createRefusedRequestLog } from './http/hooks/request-log.js';
import { METADATA_PATH } from './http/routes/oauth-metadata.js';
import { accessRules } from './mcp/access.js';
import { BUILTIN_ACCESS, createBuiltinServer } from './mcp/builtin-server.js';
import { ToolCatalog } from './mcp/catalog.js';
import { DefaultPolicy } from './mcp/policy.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from './mcp/protocol-versions.js';
import { SessionSharing } from './shared-state/session-sharing.js';
import { SessionRegistry, type ServerFactory } from './mcp/sessions.js';
import { StreamableHttpHandler } from './mcp/transport/streamable-http.js';
import { AuditLog } from './observability/audit.js';
import { createLogger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { SecurityEvents } from './observability/security-events.js';
import { ServerStats } from './observability/stats.js';
import { Authenticator } from './security/authenticator.js';
import { BAN_FAILURE_WINDOW_MS, BanList } from './security/ban-list.js';
import { isLoopbackHost } from './security/hosts.js';
import { createIpRules } from './security/ip-rules.js';
import { KeySource } from './security/key-source.js';
import { generateApiKey } from './security/keygen.js';
import { createSharedState } from './shared-state/index.js';
import { createReadiness } from './shared-state/readiness.js';
import { MemoryEventStore } from './store/memory/event-store.js';
import { VERSION } from './version.js';

/** Options of {@link createServer}. */
export interface WardenServerOptions {
  /**
   * Builds your MCP server for each session (or once, in stateless mode). Defaults to the
   * built-in tools. Must return a new `McpServer`/`Server` each call unless stateless.
   */
  readonly mcpServer?: ServerFactory;
  /**
   * Options in code, validated over the defaults (environment variables are not read).
   * Invalid options make `createServer` reject with a ConfigError listing every problem.
   */
  readonly options?: Partial<Omit<Config, 'warnings' | 'configFile'>>;
  /** An already validated configuration (from `loadConfig`); takes precedence over `options`. */
  readonly config?: Readonly<Config>;
  /**
   * Your factory's server may serve every session: it is called once and sessions cost a
   * ~1 KB channel instead of a ~40 KB engine each. Only for servers that keep no state per
   * client (the SDK engine's client capabilities then belong to whichever client initialized
   * last). The built-in server always shares.
   */
  readonly shareServer?: boolean;
  /**
   * Parts of your server only operator credentials may list, call, read, get or complete
   * (operator keys, JWTs with the `<prefix>operator` scope). Tool scopes apply either way.
   */
  readonly operatorOnly?: { readonly tools?: readonly string[]; readonly resourcePrefixes?: readonly string[]; readonly prompts?: readonly string[] };
  /** Logger to use instead of one built from `config.logLevel`. */
  readonly logger?: Logger;
  /**
   * Benchmark only: serve with no IP rules, rate limit, Host/Origin guard, authentication or
   * request log, to measure what they cost. Never use it to serve anyone.
   */
  readonly benchmarkOnlyDisableSecurity?: boolean;
  /**
   * The clock (epoch ms) for everything that expires: key expiry and rotation overlaps, token
   * `exp`, session TTLs and GET-stream lifetimes. For tests and simulations; not a CLI option.
   */
  readonly clock?: () => number;
}

/** A running (or startable) mcp-warden server. */
export interface WardenServer {
  readonly config: Readonly<Config>;
  readonly app: FastifyInstance;
  readonly logger: Logger;
  /**
   * The key generated at start because no credential was configured (loopback only);
   * undefined otherwise. Shown once by the CLI; never logged.
   */
  readonly generatedKey: string | undefined;
  /** The keys file reloader, when `--keys-file` is set (reload() for tests and tooling). */
  readonly keySource: KeySource;
  /** Listens on `config.host:config.port`; resolves to the base URL. */
  start(): Promise<string>;
  /** Graceful stop: refuse new connections, let in-flight requests finish within `config.shutdownTimeout`, close sessions, flush the audit trail. */
  stop(): Promise<void>;
  /** The bound address once started. */
  address(): AddressInfo | undefined;
}

function describeTrustProxy(config: Readonly<Config>): string {
  switch (config.trustProxy.kind) {
    case 'none':
      return 'off (client IP is the socket address)';
    case 'hops':
      return `${config.trustProxy.hops} hop(s)`;
    case 'addresses':
      return config.trustProxy.ranges.join(', ');
  }
}

/**
 * Creates an mcp-warden server with every security layer on.
 *
 * @example
 * import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
 * import { createServer } from 'mcp-warden';
 *
 * const warden = await createServer({
 *   options: { apiKeys: [process.env.MY_KEY!], port: 8443 },
 *   mcpServer: () => {
 *     const server = new McpServer({ name: 'mine', version: '1.0.0' });
 *     server.registerTool('ping', { description: 'Replies pong' }, () => ({ content: [{ type: 'text', text: 'pong' }] }));
 *     return server;
 *   },
 * });
 * await warden.start();
 */
export async function createServer(options: WardenServerOptions = {}): Promise<WardenServer> {
  let config = options.config ?? configFromValues(options.options ?? {});
  let generatedKey: string | undefined;
  if (config.apiKeys.length === 0 && config.keysFile === undefined && config.jwtJwksUrl === undefined) {
    // Secure by default: loopback without a credential gets a one-time key, never an open server.
    generatedKey = generateApiKey();
    config = Object.freeze({ ...config, apiKeys: [generatedKey] });
  }
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  for (const warning of config.warnings) logger.warn(warning);

  const now = options.clock ?? Date.now;
  let sharing: SessionSharing | undefined;
  let handler: StreamableHttpHandler | undefined;
  let authenticator: Authenticator | undefined;
  const sessions = new SessionRegistry({
    max: config.maxSessions,
    maxPerPrincipal: config.maxSessionsPerKey,
    ttlMs: config.sessionTtl * 1000,
    unusedTtlMs: config.sessionUnusedTtl * 1000,
    streamIdleMs: config.streamIdleTimeout * 1000,
    streamMaxMs: config.streamMaxLifetime * 1000,
    // A credential's end ends what it opened: revoked, removed or expired keys, tokens past `exp`.
    credentialValid: (session, at) => authenticator?.stillValid({ kind: session.principalKind, id: session.principalId }, session.credentialExpiresAt, at) ?? true,
    now,
    onClosed: (session, reason) => {
      handler?.forgetSession(session.id);
      // A session that idled out or was evicted here may live on at another replica, and every
      // replica closes its own sessions of an ended credential: only forget our bookkeeping.
      // (Always: a session kept in the local list would be re-published after a Redis recovery.)
      sharing?.forget(session.id);
      if (reason === 'revoked') logger.info({ sessionId: session.id, principal: session.principalId }, 'session closed: its credential was revoked or expired');
    },
    onCheck: (at) => handler?.endRequestsOfEndedCredentials((principal, when) => authenticator?.stillValid(principal, principal.expiresAt, when) ?? true, at),
  });
  const stats = new ServerStats({ enabled: config.monitoring, activeSessions: () => sessions.size });
  let activeBans = (): number => 0;
  const metrics = config.monitoring
    ? new Metrics({ activeSessions: () => sessions.size, activeBans: () => activeBans(), openConnections: () => connections.open })
    : undefined;
  const connections = connectionGuardFor(config, { logger, onRefused: (reason) => metrics?.connectionRefused(reason) });
  // SSE streams are named `<session id>/<n>`: their owner is the session's principal.
  const streamOwner = (streamId: string): string | undefined => sessions.peek(streamId.slice(0, streamId.indexOf('/')))?.principalId;
  const sharedState = await createSharedState(config, logger, metrics, { streamOwner });
  const readiness = createReadiness({
    synced: () => sharedState.synced,
    policy: config.redisFailure,
    timeoutMs: config.redisSyncTimeout * 1000,
    onGiveUp: () =>
      logger.error(
        { waitedSeconds: config.redisSyncTimeout, policy: config.redisFailure },
        'SERVING WITHOUT SHARED STATE: redis did not answer within the sync timeout; revocations and bans made by other replicas are not applied until it does',
      ),
  });
  const bans = new BanList({
    threshold: config.banThreshold,
    banMs: config.banSeconds * 1000,
    failures:
      config.banThreshold > 0
        ? sharedState.rateLimitStore('authfail', { windowMs: BAN_FAILURE_WINDOW_MS, maxLimit: config.banThreshold, maxClients: config.banMaxClients, overflow: 'evict' })
        : undefined,
  });
  activeBans = () => bans.list().length;
  sharedState.shareBans(bans);
  if (sharedState.mode === 'redis') {
    sharing = new SessionSharing({
      store: sharedState.sessionStore,
      bus: sharedState.bus,
      replicaId: sharedState.replicaId,
      ttlMs: config.sessionTtl * 1000,
      onError: (error) => sharedState.onFailure(error),
      now,
    });
    // Sessions created while Redis failed (or lost when it restarted empty) become shared again.
    const shared = sharing;
    sharedState.onRecovered(() => shared.republish().then(() => undefined));
  }
  const openAudit = (path: string | undefined): Promise<AuditLog> | undefined =>
    path === undefined
      ? undefined
      : AuditLog.open({
          path,
          maxBytes: config.auditMaxBytes,
          maxFiles: config.auditMaxFiles,
          key: config.auditKey,
          onRotate: (head) => logger.info({ auditFile: path, auditSeq: head.seq, auditHash: head.hash }, 'audit log rotated (chain head)'),
          onError: (error) => logger.error({ err: error, auditFile: path }, 'audit log write failed; retrying'),
        });
  const audit = await openAudit(config.auditLog);
  // Refusals and their aggregates may go to a file of their own, so no flood rotates the main trail.
  const refusalAudit = await openAudit(config.auditRefusalsLog);
  const events = new SecurityEvents({
    stats,
    logger,
    metrics,
    audit,
    refusalAudit,
    auditArguments: config.auditArguments,
    aggregate: { intervalMs: config.auditAggregateInterval * 1000, now },
  });
  const refusedRequests = createRefusedRequestLog({ logger, intervalMs: config.logAggregateInterval * 1000, now });

  // Throws KeysFileError (a config error) when the keys file is missing or invalid at start.
  const keySource = new KeySource({
    configKeys: config.apiKeys,
    keysFile: config.keysFile,
    now,
    onReload: (event) => {
      events.keysReload(event);
      // Revocations (local file, SIGHUP, or another replica through Redis) close sessions now.
      if (event.ok) void sessions.revalidate();
    },
  });
  sharedState.shareKeys(keySource);
  // jose is loaded only in OAuth mode.
  const jwt =
    config.jwtJwksUrl === undefined
      ? undefined
      : new (await import('./security/jwt.js')).JwtVerifier({
          jwksUrl: config.jwtJwksUrl,
          issuer: config.jwtIssuer as string,
          audience: config.jwtAudience as string,
          algorithms: config.jwtAlgorithms,
          scopePrefix: config.jwtScopePrefix,
          now: options.clock,
        });
  authenticator = new Authenticator({ keys: () => keySource.ring, jwt, now });
  const resourceMetadataUrl =
    jwt === undefined ? undefined : new URL(METADATA_PATH, config.publicUrl ?? config.jwtAudience ?? `http://${config.host}:${config.port}`).href;
  const challenges = createChallenges({ realm: 'mcp-warden', resourceMetadataUrl, scopePrefix: jwt === undefined ? undefined : config.jwtScopePrefix });

  const configSummary = (): Readonly<Record<string, unknown>> => ({
    version: VERSION,
    endpoint: '/mcp',
    protocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS],
    stateless: config.stateless,
    auth: {
      scheme: 'bearer',
      apiKeys: keySource.activeCount(),
      keysFile: config.keysFile !== undefined,
      oneTimeKey: generatedKey !== undefined,
      oauth: jwt === undefined ? false : { issuer: config.jwtIssuer, audience: config.jwtAudience, algorithms: [...config.jwtAlgorithms] },
    },
    rateLimit: { limit: config.rateLimit, windowSeconds: config.rateWindow, per: 'client IP (IPv6 by /64)', trustProxy: describeTrustProxy(config) },
    ipRules: { allow: [...config.allowIps], deny: [...config.denyIps] },
    bruteForce: config.banThreshold === 0 ? false : { threshold: config.banThreshold, perSeconds: 60, banSeconds: config.banSeconds },
    cors: { origins: [...config.corsOrigins] },
    allowedHosts: [...config.allowedHosts],
    bodyLimitBytes: config.bodyLimit,
    connections: {
      max: connections.maxConnections,
      maxPerIp: connections.maxConnectionsPerAddress,
      headersTimeoutSeconds: config.headersTimeout,
      requestTimeoutSeconds: config.requestTimeout,
      keepAliveTimeoutSeconds: config.keepAliveTimeout,
      lingerTimeoutSeconds: config.lingerTimeout,
    },
    sessions: {
      max: config.maxSessions,
      maxPerKey: config.maxSessionsPerKey,
      capsArePer: 'replica',
      idleTtlSeconds: config.sessionTtl,
      unusedTtlSeconds: config.sessionUnusedTtl,
      streamIdleSeconds: config.streamIdleTimeout,
      streamMaxSeconds: config.streamMaxLifetime,
    },
    sharedState: sharedState.mode === 'memory' ? { mode: 'memory' } : { mode: 'redis', failurePolicy: config.redisFailure, timeoutMs: config.redisTimeout, prefix: config.redisPrefix },
    audit:
      config.auditLog === undefined && config.auditRefusalsLog === undefined
        ? false
        : { arguments: config.auditArguments, hmac: config.auditKey !== undefined, separateRefusals: config.auditRefusalsLog !== undefined, aggregateSeconds: config.auditAggregateInterval },
    metrics: metrics === undefined ? false : { tokenProtected: config.metricsToken !== undefined },
    monitoring: config.monitoring,
  });

  const securityStatus = (): Readonly<Record<string, unknown>> => ({
    keys: { active: keySource.activeCount(), total: keySource.ring.size },
    bans: bans.list().map((ban) => ({ client: ban.client, until: new Date(ban.until).toISOString() })),
    recentEvents: events.recent(20),
    audit: audit === undefined ? undefined : audit.head,
    sharedState: { mode: sharedState.mode, ...sharedState.health(), fallbacks: sharedState.fallbacks, synced: sharedState.synced, liveReplicas: sharedState.liveReplicas },
  });

  const factory: ServerFactory = options.mcpServer ?? (() => createBuiltinServer({ status: () => stats.snapshot(), configSummary }));
  // The built-in tools keep no per-session engine state, so one engine serves every session.
  const shareEngine = options.mcpServer === undefined ? true : options.shareServer === true;
  const access = options.mcpServer === undefined ? BUILTIN_ACCESS : accessRules(options.operatorOnly);
  const policy = new DefaultPolicy({ events, access });
  const mcp = (handler = new StreamableHttpHandler({
    factory,
    policy,
    sessions,
    stateless: config.stateless,
    shareEngine,
    sharing,
    now,
    eventStore: {
      local: new MemoryEventStore({
        maxBytes: config.eventStoreBytes,
        maxPrincipalBytes: config.eventStorePrincipalBytes,
        maxStreamBytes: config.eventStoreStreamBytes,
        ownerOf: streamOwner,
      }),
      shared: sharedState.eventStore,
    },
    scopeChallenge: (_principal, denial) => challenges.scope(denial),
    events: {
      toolThrew: (message) => logger.warn({ detail: message.slice(0, 500) }, 'a tool handler threw; the client got a generic tool error'),
      scopeDenied: (ip, principal, tool) => events.scopeDenied(ip, principal, tool),
      sessionCreated: (ip, principal, sessionId) => events.sessionCreated(ip, principal, sessionId),
    },
  }));
  const catalog = new ToolCatalog(factory, access);
  const rateLimitStore = sharedState.rateLimitStore('ip', { windowMs: config.rateWindow * 1000, maxLimit: config.rateLimit, maxClients: config.rateLimitMaxClients });
  const keyRateLimitStore = sharedState.rateLimitStore('key', { windowMs: config.rateWindow * 1000, maxLimit: 1_000_000, maxClients: 100_000 });

  const dnsProtection = isLoopbackHost(config.host)
    ? 'on: loopback Host names only' + (config.allowedHosts.length > 0 ? ` plus ${config.allowedHosts.join(', ')}` : '')
    : config.allowedHosts.length > 0
      ? `on: Host must be ${config.allowedHosts.join(', ')}`
      : 'Origin checked; set --allowed-host to pin the Host header';

  if (options.benchmarkOnlyDisableSecurity === true) logger.warn('security layers are OFF (benchmark mode); do not expose this server');
  const app = await buildApp({
    security: options.benchmarkOnlyDisableSecurity !== true,
    config,
    logger,
    authenticator,
    challenges,
    bans,
    ipRules: createIpRules({ allow: config.allowIps, deny: config.denyIps }),
    rateLimitStore,
    keyRateLimitStore,
    events,
    metrics,
    mcp,
    catalog,
    stats,
    configSummary,
    securityStatus,
    health: () => sharedState.health(),
    readiness,
    refusedRequests,
    oauthMetadata:
      jwt === undefined
        ? undefined
        : async () => ({
            resource: config.jwtAudience as string,
            authorization_servers: [config.jwtIssuer as string],
            scopes_supported: jwt.scopesSupported((await catalog.list()).map((tool) => tool.name)),
            bearer_methods_supported: ['header'],
            resource_name: 'mcp-warden',
          }),
    pageInfo: (host, protocol) => ({
      version: VERSION,
      endpoint: config.publicUrl !== undefined ? new URL('/mcp', config.publicUrl).href : `${protocol}://${host ?? `${config.host}:${config.port}`}/mcp`,
      apiKeyCount: keySource.activeCount(),
      rateLimit: config.rateLimit,
      rateWindowSeconds: config.rateWindow,
      corsOrigins: config.corsOrigins,
      protocolVersions: SUPPORTED_PROTOCOL_VERSIONS,
      stateless: config.stateless,
      bodyLimitBytes: config.bodyLimit,
      dnsRebindingProtection: dnsProtection,
    }),
  });

  // Before listen: refused connections never reach Node's HTTP parser.
  connections.install(app.server);

  // Idle GET streams would hold the server open; they end first, in-flight requests may finish.
  app.addHook('preClose', async () => {
    sessions.endStreams();
  });
  app.addHook('onClose', async () => {
    keySource.close();
    connections.close();
    await mcp.close();
    await catalog.close();
    await rateLimitStore.close();
    await keyRateLimitStore.close();
    bans.close();
    await sharedState.close();
  });

  let stopping: Promise<void> | undefined;
  return {
    config,
    app,
    logger,
    generatedKey,
    keySource,
    async start(): Promise<string> {
      readiness.start();
      if (!(await sharedState.ready(2000))) {
        logger.warn({ policy: config.redisFailure, syncTimeoutSeconds: config.redisSyncTimeout }, 'redis not reachable at start; not ready (503) until the shared state is synced');
      }
      await mcp.start();
      await catalog.start();
      keySource.start();
      const url = await app.listen({ host: config.host, port: config.port });
      audit?.record({ event: 'server_start', version: VERSION, url });
      refusalAudit?.record({ event: 'server_start', version: VERSION, url });
      logger.info(
        {
          url,
          version: VERSION,
          keyCount: keySource.activeCount(),
          rateLimit: `${config.rateLimit}/${config.rateWindow}s`,
          stateless: config.stateless,
          oauth: jwt !== undefined,
          sharedState: sharedState.mode,
          replica: sharedState.replicaId,
        },
        'mcp-warden listening',
      );
      return url;
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        const deadline = config.shutdownTimeout * 1000;
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), deadline);
          timer.unref();
        });
        const closing = app.close();
        if ((await Promise.race([closing.then(() => 'closed' as const), timedOut])) === 'timeout') {
          logger.warn({ deadlineMs: deadline }, 'shutdown deadline reached; closing remaining connections');
          app.server.closeAllConnections();
          await closing;
        }
        clearTimeout(timer);
        // Pending refusal summaries go out before the trails close.
        refusedRequests.close();
        events.close();
        for (const [file, trail] of [[config.auditLog, audit], [config.auditRefusalsLog, refusalAudit]] as const) {
          if (trail === undefined) continue;
          trail.record({ event: 'server_stop' });
          await trail.close();
          // The chain head, logged outside the audit file: the anchor that reveals truncation.
          logger.info({ auditFile: file, auditSeq: trail.head.seq, auditHash: trail.head.hash }, 'audit log closed (chain head)');
        }
        logger.info('mcp-warden stopped');
        logger.flush();
      })();
      return stopping;
    },
    address(): AddressInfo | undefined {
      const address = app.server.address();
      return address !== null && typeof address === 'object' ? address : undefined;
    },
  };
}
