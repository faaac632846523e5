/**
 * @module server
 * Composition root: builds the stores, the MCP transport, the HTTP app and the logger from a
 * validated configuration, and owns start-up and graceful shutdown. The CLI and the library
 * API both go through {@link createServer}.
 */

import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { configFromValues, type Config } from './config/load.js';
import { buildApp } from './http/app.js';
import { createBuiltinServer } from './mcp/builtin-server.js';
import { ToolCatalog } from './mcp/catalog.js';
import { DefaultPolicy } from './mcp/policy.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from './mcp/protocol-versions.js';
import { SessionRegistry, type ServerFactory } from './mcp/sessions.js';
import { StreamableHttpHandler } from './mcp/transport/streamable-http.js';
import { createLogger } from './observability/logger.js';
import { ServerStats } from './observability/stats.js';
import { KeyRing } from './security/api-keys.js';
import { isLoopbackHost } from './security/hosts.js';
import { generateApiKey } from './security/keygen.js';
import { MemoryRateLimitStore } from './store/memory/rate-limit.js';
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
  /** Logger to use instead of one built from `config.logLevel`. */
  readonly logger?: Logger;
  /**
   * Benchmark only: serve with no rate limit, Host/Origin guard, authentication or request
   * log, to measure what they cost. Never use it to serve anyone.
   */
  readonly benchmarkOnlyDisableSecurity?: boolean;
}

/** A running (or startable) mcp-warden server. */
export interface WardenServer {
  readonly config: Readonly<Config>;
  readonly app: FastifyInstance;
  readonly logger: Logger;
  /**
   * The key generated at start because none was configured (loopback only); undefined when
   * keys were configured. Shown once by the CLI; never logged.
   */
  readonly generatedKey: string | undefined;
  /** Listens on `config.host:config.port`; resolves to the base URL. */
  start(): Promise<string>;
  /** Graceful stop: refuse new connections, let in-flight requests finish within `config.shutdownTimeout`, close sessions. */
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
  if (config.apiKeys.length === 0) {
    // Secure by default: loopback without a key gets a one-time key, never an open server.
    generatedKey = generateApiKey();
    config = Object.freeze({ ...config, apiKeys: [generatedKey] });
  }
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  for (const warning of config.warnings) logger.warn(warning);

  const keyRing = KeyRing.fromKeys(config.apiKeys);
  const sessions = new SessionRegistry({ max: config.maxSessions, ttlMs: config.sessionTtl * 1000 });
  const stats = new ServerStats({ enabled: config.monitoring, activeSessions: () => sessions.size });

  const configSummary = (): Readonly<Record<string, unknown>> => ({
    version: VERSION,
    endpoint: '/mcp',
    protocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS],
    stateless: config.stateless,
    auth: { scheme: 'bearer', apiKeys: keyRing.size, oneTimeKey: generatedKey !== undefined },
    rateLimit: { limit: config.rateLimit, windowSeconds: config.rateWindow, per: 'client IP (IPv6 by /64)', trustProxy: describeTrustProxy(config) },
    cors: { origins: [...config.corsOrigins] },
    allowedHosts: [...config.allowedHosts],
    bodyLimitBytes: config.bodyLimit,
    sessions: { max: config.maxSessions, idleTtlSeconds: config.sessionTtl },
    monitoring: config.monitoring,
  });

  const factory: ServerFactory =
    options.mcpServer ?? (() => createBuiltinServer({ status: () => stats.snapshot(), configSummary }));
  const policy = new DefaultPolicy({
    events: {
      toolCall: (event) => stats.toolCall(event),
      rpcError: (context, original) => logger.debug({ method: context.method, code: original.code, detail: original.message }, 'mcp error answer'),
    },
  });
  const mcp = new StreamableHttpHandler({ factory, policy, sessions, stateless: config.stateless });
  const catalog = new ToolCatalog(factory);
  const rateLimitStore = new MemoryRateLimitStore({
    windowMs: config.rateWindow * 1000,
    maxLimit: config.rateLimit,
    maxClients: config.rateLimitMaxClients,
  });

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
    keys: () => keyRing,
    rateLimitStore,
    mcp,
    catalog,
    stats,
    configSummary,
    pageInfo: (host, protocol) => ({
      version: VERSION,
      endpoint: config.publicUrl !== undefined ? new URL('/mcp', config.publicUrl).href : `${protocol}://${host ?? `${config.host}:${config.port}`}/mcp`,
      apiKeyCount: keyRing.size,
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
    await mcp.close();
    await catalog.close();
    await rateLimitStore.close();
  });

  let stopping: Promise<void> | undefined;
  return {
    config,
    app,
    logger,
    generatedKey,
    async start(): Promise<string> {
      await mcp.start();
      await catalog.start();
      const url = await app.listen({ host: config.host, port: config.port });
      logger.info(
        { url, version: VERSION, keyCount: keyRing.size, rateLimit: `${config.rateLimit}/${config.rateWindow}s`, stateless: config.stateless },
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
