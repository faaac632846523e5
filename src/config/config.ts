/**
 * @module config/config
 * The validated configuration's type, derived from the option table, and its grouped shape:
 * the flat option values (as the config file and `createServer({ options })` spell them) are
 * validated by one zod object built from `OPTION_SPECS`, then gathered into groups (OAuth,
 * shared state in Redis, audit, connections, sessions, event store) so that an optional group
 * is present exactly when its feature is on and holds no optional member it always needs.
 */

import { z } from 'zod';
import { WardenError } from '../errors.js';
import type { GatewayConfig } from '../gateway/config.js';
import { OPTION_SPECS, type OptionSpec } from './options.js';

type Spec = (typeof OPTION_SPECS)[number];
/** An option with a default always has a value; one without may be undefined. */
type FieldSchema<S extends Spec> = S extends { readonly default: unknown } ? S['schema'] : z.ZodOptional<S['schema']>;
type OptionsShape = { [S in Spec as S['key']]: FieldSchema<S> };

function shapeOf(specs: readonly OptionSpec[]): OptionsShape {
  const entries = specs.map((spec) => [spec.key, 'default' in spec ? spec.schema : spec.schema.optional()] as const);
  // The one type assertion: a runtime map over the table, typed by the mapped type above.
  return Object.fromEntries(entries) as OptionsShape;
}

/** Every option, flat, by its config-file key: the schema the table defines. */
export const OPTIONS_SCHEMA = z.object(shapeOf(OPTION_SPECS));

/** The validated flat option values, one per row of `OPTION_SPECS`. */
export type OptionValues = z.output<typeof OPTIONS_SCHEMA>;

/** Options given in code (`createServer({ options })`, `configFromValues`): flat config-file keys. */
export type ConfigOptions = Partial<OptionValues>;

/** OAuth 2.1 bearer JWTs; present only with `--jwt-jwks-url`. */
export interface OAuthConfig {
  readonly jwksUrl: string;
  /** Required `iss`: the authorization server. */
  readonly issuer: string;
  /** Required `aud`: --jwt-audience, else --public-url. */
  readonly audience: string;
  readonly algorithms: OptionValues['jwtAlgorithms'];
  readonly scopePrefix: string;
}

/** mcp-warden as the authorization server for its own /mcp; present only with `--oauth-issuer`. */
export interface AuthorizationServerConfig {
  /** The issuer: the public origin, no trailing slash. */
  readonly issuer: string;
  /** Signing keys persist here (a secret file); undefined: in memory only. */
  readonly keyFile: string | undefined;
  readonly scopePrefix: string;
  /** Who signs in: undefined is key sign-in; else users sign in at this OpenID Connect provider. */
  readonly upstream: UpstreamOidcConfig | undefined;
  /** Client ID Metadata Documents; undefined: off (`--no-oauth-cimd`). */
  readonly clientDocuments: ClientDocumentsConfig | undefined;
}

/** Client ID Metadata Documents (on by default with `--oauth-issuer`). */
export interface ClientDocumentsConfig {
  /** Tests only: documents on loopback addresses, over http too. */
  readonly allowLoopback: boolean;
  /** Extra trusted certificates (PEM file), read at start. */
  readonly caFile: string | undefined;
}

/** Upstream OpenID Connect sign-in (`--oauth-upstream-issuer`). */
export interface UpstreamOidcConfig {
  readonly issuer: string;
  readonly clientId: string;
  /** A secret: never logged. */
  readonly clientSecret: string;
  /** The rules file (read and checked at start). */
  readonly rulesFile: string;
  readonly groupsClaim: string;
  readonly scopes: readonly string[];
}

/** What replicas share through Redis; present only with `--redis-url`. */
export interface RedisConfig {
  /** May hold a password: never logged. */
  readonly url: string;
  readonly failure: OptionValues['redisFailure'];
  /** Milliseconds per Redis call. */
  readonly timeout: number;
  /** Seconds a starting replica waits (not ready) for the shared state before `open` serves anyway. */
  readonly syncTimeout: number;
  readonly prefix: string;
  /** Signs bus messages and records in Redis; a secret, never logged. */
  readonly sharedSecret: string;
  /** The shared secret being rotated out: accepted, never used to sign; a secret. */
  readonly sharedSecretPrevious: string | undefined;
}

/** Multi round-trip requests: how `requestState` is sealed (`mcp/request-state`). */
export interface RequestStateConfig {
  /** Seconds a minted state stays valid. */
  readonly ttl: number;
  /**
   * The shared secret (`MCP_SHARED_SECRET`), when set: replicas holding it accept each other's
   * state. Undefined: a random secret per process (state is valid on that process until it
   * restarts). A secret, never logged.
   */
  readonly secret: string | undefined;
  /** The shared secret being rotated out: state it sealed stays valid. A secret. */
  readonly previousSecret: string | undefined;
}

/** The audit trail. */
export interface AuditConfig {
  /** Main hash-chained trail; none when undefined. */
  readonly log: string | undefined;
  /** Second file for refusal records and their aggregates. */
  readonly refusalsLog: string | undefined;
  readonly maxBytes: number;
  readonly maxFiles: number;
  /** HMAC key for the chain; a secret, never logged. */
  readonly key: string | undefined;
  readonly arguments: OptionValues['auditArguments'];
  /** Seconds per aggregation interval of refusals (0: off). */
  readonly aggregateInterval: number;
}

/** Connection caps and timeouts, in seconds. */
export interface ConnectionsConfig {
  /** Seconds to receive a request's headers. */
  readonly headersTimeout: number;
  /** Seconds to receive a whole request (headers and body). */
  readonly requestTimeout: number;
  /** Seconds a kept-alive connection may idle between requests. */
  readonly keepAliveTimeout: number;
  /** Seconds of lingering read after an error answer with an unread body. */
  readonly lingerTimeout: number;
  /** Undefined: derived from the open-files limit at start. */
  readonly max: number | undefined;
  readonly maxPerIp: number | undefined;
}

/** MCP sessions and their GET streams, and the 2026-07-28 listen streams; lifetimes in seconds. */
export interface SessionsConfig {
  readonly max: number;
  readonly maxPerKey: number;
  /** `subscriptions/listen` streams held at once (default: `max`). */
  readonly maxListen: number;
  /** `subscriptions/listen` streams one principal may hold (default: `maxPerKey`). */
  readonly maxListenPerKey: number;
  readonly ttl: number;
  readonly unusedTtl: number;
  readonly streamIdleTimeout: number;
  readonly streamMaxLifetime: number;
}

/** Byte budgets of the SSE event stores (UTF-8 bytes). */
export interface EventStoreConfig {
  readonly bytes: number;
  readonly principalBytes: number;
  readonly streamBytes: number;
}

/** The options kept at the top of {@link Config}: every option not gathered into a group. */
function topLevel(values: OptionValues) {
  const {
    jwtJwksUrl, jwtIssuer, jwtAudience, jwtAlgorithms, jwtScopePrefix, oauthIssuer, oauthKeyFile, oauthCimd, oauthCimdAllowLoopback, oauthCimdCaFile, oauthUpstreamIssuer, oauthUpstreamClientId, oauthUpstreamClientSecret, oauthUpstreamClientSecretFile, oauthUpstreamRules, oauthUpstreamGroupsClaim, oauthUpstreamScopes,
    redisUrl, redisFailure, redisTimeout, redisSyncTimeout, redisPrefix,
    sharedSecret, sharedSecretPrevious, sharedSecretFile, sharedSecretPreviousFile, requestStateTtl,
    auditLog, auditRefusalsLog, auditMaxBytes, auditMaxFiles, auditKey, auditArguments, auditAggregateInterval,
    headersTimeout, requestTimeout, keepAliveTimeout, lingerTimeout, maxConnections, maxConnectionsPerIp,
    maxSessions, maxSessionsPerKey, maxListenStreams, maxListenPerKey, sessionTtl, sessionUnusedTtl, streamIdleTimeout, streamMaxLifetime,
    eventStoreBytes, eventStorePrincipalBytes, eventStoreStreamBytes,
    ...top
  } = values;
  return top;
}

/** The validated server configuration. Frozen; secrets live only in `apiKeys`, `metricsToken`, `audit.key`, `redis` and `requestState`. */
export type Config = Readonly<ReturnType<typeof topLevel>> & {
  readonly apiKeys: readonly string[];
  readonly oauth: OAuthConfig | undefined;
  readonly authorizationServer: AuthorizationServerConfig | undefined;
  readonly redis: RedisConfig | undefined;
  readonly requestState: RequestStateConfig;
  readonly audit: AuditConfig;
  readonly connections: ConnectionsConfig;
  readonly sessions: SessionsConfig;
  readonly eventStore: EventStoreConfig;
  /** The upstream MCP servers mcp-warden fronts (config file `gateway`/`mcpServers`, or the `--` one-liner); undefined: none. */
  readonly gateway: Readonly<GatewayConfig> | undefined;
  /** Path of the config file that was read, if any. */
  readonly configFile: string | undefined;
  /** Non-fatal findings to log at start (e.g. keys passed on the command line). */
  readonly warnings: readonly string[];
};

/** A value `loadConfig` has already required; missing only through a bug, so fail closed. */
function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new WardenError('WARDEN_ERR_CONFIG', { message: `Invalid configuration: ${name} is required` });
  return value;
}

function oauthOf(values: OptionValues): OAuthConfig | undefined {
  if (values.jwtJwksUrl === undefined) return undefined;
  return {
    jwksUrl: values.jwtJwksUrl,
    issuer: required(values.jwtIssuer, '--jwt-issuer'),
    audience: required(values.jwtAudience ?? values.publicUrl, '--jwt-audience'),
    algorithms: values.jwtAlgorithms,
    scopePrefix: values.jwtScopePrefix,
  };
}

function upstreamOf(values: OptionValues): UpstreamOidcConfig | undefined {
  if (values.oauthUpstreamIssuer === undefined) return undefined;
  return {
    issuer: values.oauthUpstreamIssuer,
    clientId: required(values.oauthUpstreamClientId, '--oauth-upstream-client-id'),
    clientSecret: required(values.oauthUpstreamClientSecret, 'MCP_OAUTH_UPSTREAM_CLIENT_SECRET'),
    rulesFile: required(values.oauthUpstreamRules, '--oauth-upstream-rules'),
    groupsClaim: values.oauthUpstreamGroupsClaim,
    scopes: values.oauthUpstreamScopes,
  };
}

function redisOf(values: OptionValues): RedisConfig | undefined {
  if (values.redisUrl === undefined) return undefined;
  return {
    url: values.redisUrl,
    failure: values.redisFailure,
    timeout: values.redisTimeout,
    syncTimeout: values.redisSyncTimeout,
    prefix: values.redisPrefix,
    sharedSecret: required(values.sharedSecret, 'MCP_SHARED_SECRET'),
    sharedSecretPrevious: values.sharedSecretPrevious,
  };
}

/**
 * Gathers validated flat values into the grouped {@link Config}, frozen.
 *
 * @example
 * const config = groupConfig(OPTIONS_SCHEMA.parse(values), undefined, []);
 */
export function groupConfig(values: OptionValues, configFile: string | undefined, warnings: readonly string[], gateway?: Readonly<GatewayConfig>): Readonly<Config> {
  return Object.freeze({
    ...topLevel(values),
    // The issuer is this server's public origin: the Host/Origin guard and the page use it.
    publicUrl: values.publicUrl ?? values.oauthIssuer,
    oauth: oauthOf(values),
    authorizationServer:
      values.oauthIssuer === undefined ? undefined : {
            issuer: values.oauthIssuer,
            keyFile: values.oauthKeyFile,
            scopePrefix: values.jwtScopePrefix,
            upstream: upstreamOf(values),
            clientDocuments: values.oauthCimd ? { allowLoopback: values.oauthCimdAllowLoopback, caFile: values.oauthCimdCaFile } : undefined,
          },
    redis: redisOf(values),
    requestState: { ttl: values.requestStateTtl, secret: values.sharedSecret, previousSecret: values.sharedSecretPrevious },
    audit: {
      log: values.auditLog,
      refusalsLog: values.auditRefusalsLog,
      maxBytes: values.auditMaxBytes,
      maxFiles: values.auditMaxFiles,
      key: values.auditKey,
      arguments: values.auditArguments,
      aggregateInterval: values.auditAggregateInterval,
    },
    connections: {
      headersTimeout: values.headersTimeout,
      requestTimeout: values.requestTimeout,
      keepAliveTimeout: values.keepAliveTimeout,
      lingerTimeout: values.lingerTimeout,
      max: values.maxConnections,
      maxPerIp: values.maxConnectionsPerIp,
    },
    sessions: {
      max: values.maxSessions,
      maxPerKey: values.maxSessionsPerKey,
      maxListen: values.maxListenStreams ?? values.maxSessions,
      maxListenPerKey: values.maxListenPerKey ?? values.maxSessionsPerKey,
      ttl: values.sessionTtl,
      unusedTtl: values.sessionUnusedTtl,
      streamIdleTimeout: values.streamIdleTimeout,
      streamMaxLifetime: values.streamMaxLifetime,
    },
    eventStore: { bytes: values.eventStoreBytes, principalBytes: values.eventStorePrincipalBytes, streamBytes: values.eventStoreStreamBytes },
    gateway,
    configFile,
    warnings: Object.freeze([...warnings]),
  });
}
