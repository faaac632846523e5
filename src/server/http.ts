/**
 * @module server/http
 * The Fastify app over the parts: every security layer (unless the benchmark turned them off),
 * the MCP route, the operator API, the page and the OAuth metadata.
 */

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { buildApp } from '../http/app.js';
import { createIpRules } from '../security/ip-rules.js';
import { oauthMetadataFor, type Credentials } from './credentials.js';
import type { Engine } from './engine.js';
import type { Observability } from './observability.js';
import type { ServerSharedState } from './shared-state.js';
import type { Summaries } from './summaries.js';
import type { WardenServerOptions } from './types.js';

export interface HttpParts {
  readonly observed: Observability;
  readonly shared: ServerSharedState;
  readonly credentials: Credentials;
  readonly engine: Engine;
  readonly summaries: Summaries;
}

export function createHttpApp(options: WardenServerOptions, config: Readonly<Config>, logger: Logger, parts: HttpParts): Promise<FastifyInstance> {
  const { observed, shared, credentials, engine, summaries } = parts;
  if (options.benchmarkOnlyDisableSecurity === true) logger.warn('security layers are OFF (benchmark mode); do not expose this server');
  return buildApp({
    security: options.benchmarkOnlyDisableSecurity !== true,
    config,
    logger,
    authenticator: credentials.authenticator,
    challenges: credentials.challenges,
    bans: shared.bans,
    ipRules: createIpRules({ allow: config.allowIps, deny: config.denyIps }),
    rateLimitStore: shared.rateLimitStore,
    keyRateLimitStore: shared.keyRateLimitStore,
    toolRateLimitStores: shared.toolRateLimitStores,
    events: observed.events,
    metrics: observed.metrics,
    mcp: engine.mcp,
    upstreams: engine.upstreams.size === 0 ? undefined : { handlers: engine.upstreams, separator: (options.gateway ?? config.gateway)?.separator ?? '__' },
    catalog: engine.catalog,
    stats: observed.stats,
    configSummary: summaries.configSummary,
    securityStatus: summaries.securityStatus,
    health: () => shared.sharedState.health(),
    readiness: shared.readiness,
    refusedRequests: observed.refusedRequests,
    oauthMetadata: oauthMetadataFor(config, credentials.jwt, engine.catalog, credentials.authorizationServer),
    authorizationServer: credentials.authorizationServer,
    pageInfo: summaries.pageInfo,
  });
}
