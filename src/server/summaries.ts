/**
 * @module server/summaries
 * What the server says about itself: the configuration summary (`/api/status`, the built-in
 * `server_status` tool), the security status (`/api/status`), the facts on the start page, and
 * the wording of the trust-proxy and DNS-rebinding settings they show.
 */

import type { Config } from '../config/load.js';
import type { GatewayConfig } from '../gateway/config.js';
import { ALL_SUPPORTED_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS, SUPPORTED_PROTOCOL_VERSIONS } from '../mcp/protocol-versions.js';
import type { PageInfo } from '../http/page.js';
import { isLoopbackHost } from '../security/hosts.js';
import { VERSION } from '../version.js';
import type { Credentials } from './credentials.js';
import type { Observability } from './observability.js';
import type { ServerSharedState } from './shared-state.js';

export function describeTrustProxy(config: Readonly<Config>): string {
  switch (config.trustProxy.kind) {
    case 'none':
      return 'off (client IP is the socket address)';
    case 'hops':
      return `${config.trustProxy.hops} hop(s)`;
    case 'addresses':
      return config.trustProxy.ranges.join(', ');
  }
}

/** How the Host header is protected against DNS rebinding, as the start page says it. */
export function describeDnsProtection(config: Readonly<Config>): string {
  return isLoopbackHost(config.host)
    ? 'on: loopback Host names only' + (config.allowedHosts.length > 0 ? ` plus ${config.allowedHosts.join(', ')}` : '')
    : config.allowedHosts.length > 0
      ? `on: Host must be ${config.allowedHosts.join(', ')}`
      : 'Origin checked; set --allowed-host to pin the Host header';
}

/** The parts the summaries read. */
export interface SummaryParts {
  readonly generatedKey: string | undefined;
  readonly observed: Observability;
  readonly shared: ServerSharedState;
  readonly credentials: Credentials;
  /** The gateway's configuration, when upstream servers are served. */
  readonly gateway?: Readonly<GatewayConfig> | undefined;
}

export interface Summaries {
  readonly configSummary: () => Readonly<Record<string, unknown>>;
  readonly securityStatus: () => Readonly<Record<string, unknown>>;
  readonly pageInfo: (host: string | undefined, protocol: string) => PageInfo;
}

export function createSummaries(config: Readonly<Config>, parts: SummaryParts): Summaries {
  return { configSummary: configSummaryOf(config, parts), securityStatus: securityStatusOf(parts), pageInfo: pageInfoOf(config, parts) };
}

function configSummaryOf(config: Readonly<Config>, parts: SummaryParts): () => Readonly<Record<string, unknown>> {
  const { generatedKey, observed: { connections, metrics }, shared: { sharedState }, credentials: { keySource, jwt } } = parts;
  return () => ({
    version: VERSION,
    endpoint: '/mcp',
    protocolVersions: [...ALL_SUPPORTED_PROTOCOL_VERSIONS],
    // Both eras on one endpoint, chosen by how the client opens (README "Protocol eras").
    eras: { modern: [...MODERN_PROTOCOL_VERSIONS], legacy: [...SUPPORTED_PROTOCOL_VERSIONS] },
    stateless: config.stateless,
    // Names and modes only: commands, URLs and headers may hold credentials.
    gateway:
      parts.gateway === undefined
        ? false
        : {
            upstreams: parts.gateway.upstreams.map((upstream) => ({ name: upstream.name, kind: upstream.kind, isolation: upstream.isolation, path: `/mcp/${upstream.name}` })),
            separator: parts.gateway.separator,
            newTools: parts.gateway.newTools,
            secrets: parts.gateway.secrets,
            pinLock: parts.gateway.pinLock !== undefined,
          },
    auth: {
      scheme: 'bearer',
      apiKeys: keySource.activeCount(),
      keysFile: config.keysFile !== undefined,
      oneTimeKey: generatedKey !== undefined,
      oauth: jwt === undefined || config.oauth === undefined ? false : { issuer: config.oauth.issuer, audience: config.oauth.audience, algorithms: [...config.oauth.algorithms] },
      // mcp-warden as its own authorization server (key sign-in); never the key file's path or keys.
      authorizationServer: config.authorizationServer === undefined ? false : { issuer: config.authorizationServer.issuer, keysPersisted: config.authorizationServer.keyFile !== undefined },
    },
    rateLimit: {
      limit: config.rateLimit,
      windowSeconds: config.rateWindow,
      per: 'client IP (IPv6 by /64)',
      trustProxy: describeTrustProxy(config),
      perTool: config.toolRateLimit.map(({ tool, limit, windowMs }) => ({ tool, limit, windowMs, per: 'key or token subject' })),
    },
    ipRules: { allow: [...config.allowIps], deny: [...config.denyIps] },
    bruteForce: config.banThreshold === 0 ? false : { threshold: config.banThreshold, perSeconds: 60, banSeconds: config.banSeconds },
    cors: { origins: [...config.corsOrigins] },
    allowedHosts: [...config.allowedHosts],
    bodyLimitBytes: config.bodyLimit,
    connections: {
      max: connections.maxConnections,
      maxPerIp: connections.maxConnectionsPerAddress,
      headersTimeoutSeconds: config.connections.headersTimeout,
      requestTimeoutSeconds: config.connections.requestTimeout,
      keepAliveTimeoutSeconds: config.connections.keepAliveTimeout,
      lingerTimeoutSeconds: config.connections.lingerTimeout,
    },
    sessions: {
      max: config.sessions.max,
      maxPerKey: config.sessions.maxPerKey,
      maxListenStreams: config.sessions.maxListen,
      maxListenPerKey: config.sessions.maxListenPerKey,
      capsArePer: 'replica',
      idleTtlSeconds: config.sessions.ttl,
      unusedTtlSeconds: config.sessions.unusedTtl,
      streamIdleSeconds: config.sessions.streamIdleTimeout,
      streamMaxSeconds: config.sessions.streamMaxLifetime,
    },
    sharedState: config.redis === undefined ? { mode: 'memory' } : { mode: 'redis', failurePolicy: config.redis.failure, timeoutMs: config.redis.timeout, prefix: config.redis.prefix },
    audit:
      config.audit.log === undefined && config.audit.refusalsLog === undefined
        ? false
        : { arguments: config.audit.arguments, hmac: config.audit.key !== undefined, separateRefusals: config.audit.refusalsLog !== undefined, aggregateSeconds: config.audit.aggregateInterval },
    metrics: metrics === undefined ? false : { tokenProtected: config.metricsToken !== undefined },
    monitoring: config.monitoring,
  });
}

function securityStatusOf(parts: SummaryParts): () => Readonly<Record<string, unknown>> {
  const { observed: { events, audit }, shared: { sharedState, bans }, credentials: { keySource } } = parts;
  return () => ({
    keys: { active: keySource.activeCount(), total: keySource.ring.size },
    bans: bans.list().map((ban) => ({ client: ban.client, until: new Date(ban.until).toISOString() })),
    recentEvents: events.recent(20),
    audit: audit === undefined ? undefined : audit.head,
    sharedState: { mode: sharedState.mode, ...sharedState.health(), fallbacks: sharedState.fallbacks, synced: sharedState.synced, liveReplicas: sharedState.liveReplicas },
  });
}

function pageInfoOf(config: Readonly<Config>, parts: SummaryParts): (host: string | undefined, protocol: string) => PageInfo {
  const { keySource } = parts.credentials;
  const dnsProtection = describeDnsProtection(config);
  return (host, protocol) => ({
    version: VERSION,
    endpoint: config.publicUrl !== undefined ? new URL('/mcp', config.publicUrl).href : `${protocol}://${host ?? `${config.host}:${config.port}`}/mcp`,
    apiKeyCount: keySource.activeCount(),
    rateLimit: config.rateLimit,
    rateWindowSeconds: config.rateWindow,
    corsOrigins: config.corsOrigins,
    protocolVersions: SUPPORTED_PROTOCOL_VERSIONS,
    modernProtocolVersions: MODERN_PROTOCOL_VERSIONS,
    stateless: config.stateless,
    bodyLimitBytes: config.bodyLimit,
    dnsRebindingProtection: dnsProtection,
  });
}
