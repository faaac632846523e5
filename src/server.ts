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
import { createChallenges } from './http/challenge.js';
import { createRefusedRequestLog } from './http/hooks/request-log.js';
import { METADATA_PATH } from './http/routes/oauth-metadata.js';
import { createBuiltinServer } from './mcp/builtin-server.js';
import { ToolCatalog } from './mcp/catalog.js';
import { DefaultPolicy } from './mcp/policy.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from './mcp/protocol-versions.js';
import { SessionSharing } from './mcp/session-sharing.js';
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
import { createReplication } from './replication.js';
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
  /** Logger to use instead of one built from `config.logLevel`. */
  readonly logger?: Logger;
  /**
   * Benchmark only: serve with no IP rules, rate limit, Host/Origin guard, authentication or
   * request log, to measure what they cost. Never use it to serve anyone.
   */
  readonly benchmarkOnlyDisableSecurity?: boolean;
  /** Clock in ms for time-dependent behaviour (refusal aggregation intervals); tests advance it. */
  readonly now?: () => number;
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

  let sharing: SessionSharing | undefined;
  let handler: StreamableHttpHandler | undefined;
  const sessions = new SessionRegistry({
    max: config.maxSessions,
    maxPerPrincipal: config.maxSessionsPerKey,
    ttlMs: config.sessionTtl * 1000,
    onClosed: (session, reason) => {
      handler?.forgetSession(session.id);
      // A session that idled out here may live on at another replica: only forget our bookkeeping.
      if (reason === 'expired') sharing?.forget(session.id);
    },
  });
  const stats = new ServerStats({ enabled: config.monitoring, activeSessions: () => sessions.size });
  let activeBans = (): number => 0;
  const metrics = config.monitoring ? new Metrics({ activeSessions: () => sessions.size, activeBans: () => activeBans() }) : undefined;
  const replication = await createReplication(config, logger, metrics);
  const bans = new BanList({
    threshold: config.banThreshold,
    banMs: config.banSeconds * 1000,
    failures:
      config.banThreshold > 0
        ? replication.rateLimitStore('authfail', { windowMs: BAN_FAILURE_WINDOW_MS, maxLimit: config.banThreshold, maxClients: 100_000 })
        : undefined,
  });
  activeBans = () => bans.list().length;
  replication.shareBans(bans);
  if (replication.mode === 'redis') {
    sharing = new SessionSharing({
      store: replication.sessionStore,
      bus: replication.bus,
      replicaId: replication.replicaId,
      ttlMs: config.sessionTtl * 1000,
      onError: (error) => replication.onFailure(error),
    });
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
    aggregate: { intervalMs: config.auditAggregateInterval * 1000, now: options.now },
  });
  const refusedRequests = createRefusedRequestLog({ logger, intervalMs: config.logAggregateInterval * 1000, now: options.now });

  // Throws KeysFileError (a config error) when the keys file is missing or invalid at start.
  const keySource = new KeySource({ configKeys: config.apiKeys, keysFile: config.keysFile, onReload: (event) => events.keysReload(event) });
  replication.shareKeys(keySource);
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
        });
  const authenticator = new Authenticator({ keys: () => keySource.ring, jwt });
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
      apiKeys: keySource.ring.activeCount(),
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
    sessions: { max: config.maxSessions, maxPerKey: config.maxSessionsPerKey, idleTtlSeconds: config.sessionTtl },
    sharedState: replication.mode === 'memory' ? { mode: 'memory' } : { mode: 'redis', failurePolicy: config.redisFailure, timeoutMs: config.redisTimeout, prefix: config.redisPrefix },
    audit:
      config.auditLog === undefined && config.auditRefusalsLog === undefined
        ? false
        : { arguments: config.auditArguments, hmac: config.auditKey !== undefined, separateRefusals: config.auditRefusalsLog !== undefined, aggregateSeconds: config.auditAggregateInterval },
    metrics: metrics === undefined ? false : { tokenProtected: config.metricsToken !== undefined },
    monitoring: config.monitoring,
  });

  const securityStatus = (): Readonly<Record<string, unknown>> => ({
    keys: { active: keySource.ring.activeCount(), total: keySource.ring.size },
    bans: bans.list().map((ban) => ({ client: ban.client, until: new Date(ban.until).toISOString() })),
    recentEvents: events.recent(20),
    audit: audit === undefined ? undefined : audit.head,
    sharedState: { mode: replication.mode, ...replication.health(), fallbacks: replication.fallbacks },
  });

  const factory: ServerFactory = options.mcpServer ?? (() => createBuiltinServer({ status: () => stats.snapshot(), configSummary }));
  // The built-in tools keep no per-session engine state, so one engine serves every session.
  const shareEngine = options.mcpServer === undefined ? true : options.shareServer === true;
  const policy = new DefaultPolicy({ events });
  const mcp = (handler = new StreamableHttpHandler({
    factory,
    policy,
    sessions,
    stateless: config.stateless,
    shareEngine,
    sharing,
    eventStore: { local: new MemoryEventStore(), shared: replication.eventStore },
    scopeChallenge: (_principal, tool) => challenges.scope(tool),
    events: {
      toolThrew: (message) => logger.warn({ detail: message.slice(0, 500) }, 'a tool handler threw; the client got a generic tool error'),
      scopeDenied: (ip, principal, tool) => events.scopeDenied(ip, principal, tool),
      sessionCreated: (ip, principal, sessionId) => events.sessionCreated(ip, principal, sessionId),
    },
  }));
  const catalog = new ToolCatalog(factory);
  const rateLimitStore = replication.rateLimitStore('ip', { windowMs: config.rateWindow * 1000, maxLimit: config.rateLimit, maxClients: config.rateLimitMaxClients });
  const keyRateLimitStore = replication.rateLimitStore('key', { windowMs: config.rateWindow * 1000, maxLimit: 1_000_000, maxClients: 100_000 });

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
    health: () => replication.health(),
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
      apiKeyCount: keySource.ring.activeCount(),
      rateLimit: config.rateLimit,
      rateWindowSeconds: config.rateWindow,
      corsOrigins: config.corsOrigins,
      protocolVersions: SUPPORTED_PROTOCOL_VERSIONS,
      stateless: config.stateless,
      bodyLimitBytes: config.bodyLimit,
      dnsRebindingProtection: dnsProtection,
    }),
  });

  // Idle GET streams would hold the server open; they end first, in-flight requests may finish.
  app.addHook('preClose', async () => {
    sessions.endStreams();
  });
  app.addHook('onClose', async () => {
    keySource.close();
    await mcp.close();
    await catalog.close();
    await rateLimitStore.close();
    await keyRateLimitStore.close();
    bans.close();
    await replication.close();
  });

  let stopping: Promise<void> | undefined;
  return {
    config,
    app,
    logger,
    generatedKey,
    keySource,
    async start(): Promise<string> {
      if (!(await replication.ready(2000))) logger.warn({ policy: config.redisFailure }, 'redis not reachable at start; serving with per-replica state until it is');
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
          keyCount: keySource.ring.activeCount(),
          rateLimit: `${config.rateLimit}/${config.rateWindow}s`,
          stateless: config.stateless,
          oauth: jwt !== undefined,
          sharedState: replication.mode,
          replica: replication.replicaId,
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
