/**
 * @module config/options
 * The table of every server option: its command-line flag, environment variable, config-file
 * key, default and validator. The CLI builds its flags from this table, `loadConfig` reads env
 * and file through it, and the README's option table is checked against it by a test.
 */

import type { z } from 'zod';
import * as v from './validators.js';

export { LOG_LEVELS, JWT_ALGORITHMS, type LogLevel, type TrustProxy } from './validators.js';

/** Where a value came from; shown in error messages so operators find the bad setting. */
export type OptionSource = 'flag' | 'env' | 'value' | 'file' | 'default';

/** One option of the server. */
export interface OptionSpec {
  /** Key in the config file and in the raw option bag. */
  readonly key: string;
  /** Commander flag definition, e.g. `--port <number>`; absent when the option is file/env only. */
  readonly flag?: string;
  /** Whether the flag may repeat (values collected into a list). */
  readonly repeatable?: boolean;
  readonly env?: string;
  readonly description: string;
  readonly schema: z.ZodType;
  /** Default, already in parsed form. */
  readonly default?: unknown;
}

/** Every option of `mcp-warden serve`, in the order the README lists them. */
export const OPTION_SPECS = [
  { key: 'port', flag: '--port <number>', env: 'PORT', description: 'TCP port to listen on (0 picks a free port)', schema: v.integer(0, 65535), default: 8443 },
  { key: 'host', flag: '--host <address>', env: 'HOST', description: 'address to bind; non-loopback addresses require an API key', schema: v.host, default: '127.0.0.1' },
  {
    key: 'apiKeys',
    flag: '--api-key <key>',
    repeatable: true,
    env: 'MCP_API_KEYS',
    description: 'API key accepted as `Authorization: Bearer <key>`; repeat for several (env: comma-separated). Keys from all sources are combined. A key in argv shows in `ps` and logs: prefer the env var or --keys-file',
    schema: v.apiKeys,
    default: [],
  },
  {
    key: 'envKeys',
    flag: '--env-keys',
    description: 'require keys from MCP_API_KEYS (start fails when it is empty)',
    schema: v.boolean,
    default: false,
  },
  { key: 'rateLimit', flag: '--rate-limit <n>', env: 'MCP_RATE_LIMIT', description: 'requests allowed per client IP in any rolling window', schema: v.integer(1, 1_000_000), default: 100 },
  { key: 'rateWindow', flag: '--rate-window <seconds>', env: 'MCP_RATE_WINDOW', description: 'length of the rolling rate-limit window in seconds', schema: v.integer(1, 86_400), default: 60 },
  {
    key: 'rateLimitMaxClients',
    flag: '--rate-limit-max-clients <n>',
    env: 'MCP_RATE_LIMIT_MAX_CLIENTS',
    description: 'client IPs tracked at once; beyond it new clients share one overflow limit (bounds memory)',
    schema: v.integer(100, 10_000_000),
    default: 200_000,
  },
  {
    key: 'trustProxy',
    flag: '--trust-proxy <hops|cidrs>',
    env: 'MCP_TRUST_PROXY',
    description: 'trust X-Forwarded-For from this many proxy hops, or from these proxy CIDRs; off by default',
    schema: v.trustProxy,
    default: { kind: 'none' },
  },
  {
    key: 'corsOrigins',
    flag: '--cors-origin <origin>',
    repeatable: true,
    env: 'MCP_CORS_ORIGINS',
    description: 'browser origin allowed to call the API (repeatable; env: comma-separated); none by default',
    schema: v.origins,
    default: [],
  },
  {
    key: 'allowedHosts',
    flag: '--allowed-host <host>',
    repeatable: true,
    env: 'MCP_ALLOWED_HOSTS',
    description: 'Host header values accepted besides loopback names (DNS-rebinding protection); when set, enforced on any bind address',
    schema: v.hostNames,
    default: [],
  },
  {
    key: 'logLevel',
    flag: '--log-level <level>',
    env: 'MCP_LOG_LEVEL',
    description: `log level: ${v.LOG_LEVELS.join(', ')}`,
    schema: v.logLevel,
    default: 'info',
  },
  {
    key: 'monitoring',
    flag: '--no-monitoring',
    env: 'MCP_ENABLE_MONITORING',
    description: 'request/auth/rate-limit counters shown by /api/status and server_status (on by default)',
    schema: v.boolean,
    default: true,
  },
  { key: 'bodyLimit', flag: '--body-limit <bytes>', env: 'MCP_BODY_LIMIT', description: 'largest request body accepted; larger bodies get 413', schema: v.integer(1024, 64 * 1024 * 1024), default: 1024 * 1024 },
  {
    key: 'eventStoreBytes',
    flag: '--event-store-bytes <bytes>',
    env: 'MCP_EVENT_STORE_BYTES',
    description: 'UTF-8 bytes of recent SSE events kept for resumption in all (per process in memory; for all replicas together in Redis); oldest go first',
    schema: v.integer(0, 2 ** 40),
    default: 64 * 1024 * 1024,
  },
  {
    key: 'eventStorePrincipalBytes',
    flag: '--event-store-principal-bytes <bytes>',
    env: 'MCP_EVENT_STORE_PRINCIPAL_BYTES',
    description: 'UTF-8 bytes of recent SSE events kept for one key or token subject over all its streams',
    schema: v.integer(0, 2 ** 40),
    default: 16 * 1024 * 1024,
  },
  {
    key: 'eventStoreStreamBytes',
    flag: '--event-store-stream-bytes <bytes>',
    env: 'MCP_EVENT_STORE_STREAM_BYTES',
    description: 'UTF-8 bytes of recent SSE events kept per stream (larger events are not shared through Redis)',
    schema: v.integer(0, 2 ** 40),
    default: 1024 * 1024,
  },
  { key: 'maxSessions', flag: '--max-sessions <n>', env: 'MCP_MAX_SESSIONS', description: 'MCP sessions held at once; beyond it initialize gets 503', schema: v.integer(1, 1_000_000), default: 10_000 },
  {
    key: 'maxSessionsPerKey',
    flag: '--max-sessions-per-key <n>',
    env: 'MCP_MAX_SESSIONS_PER_KEY',
    description: 'MCP sessions one key or token subject may hold at once (keeps one caller from taking all of --max-sessions)',
    schema: v.integer(1, 1_000_000),
    default: 1000,
  },
  {
    key: 'sessionTtl',
    flag: '--session-ttl <seconds>',
    env: 'MCP_SESSION_TTL',
    description: 'idle time after which a session is closed (an open GET stream alone does not keep it alive)',
    schema: v.integer(10, 7 * 86_400),
    default: 1800,
  },
  {
    key: 'sessionUnusedTtl',
    flag: '--session-unused-ttl <seconds>',
    env: 'MCP_SESSION_UNUSED_TTL',
    description: 'idle time after which a session that did nothing after initialize is closed (probes that never send DELETE)',
    schema: v.integer(5, 7 * 86_400),
    default: 60,
  },
  {
    key: 'streamIdleTimeout',
    flag: '--stream-idle-timeout <seconds>',
    env: 'MCP_STREAM_IDLE_TIMEOUT',
    description: 'a GET stream that carried no message for this long is ended; clients reconnect with Last-Event-ID',
    schema: v.integer(5, 7 * 86_400),
    default: 300,
  },
  {
    key: 'streamMaxLifetime',
    flag: '--stream-max-lifetime <seconds>',
    env: 'MCP_STREAM_MAX_LIFETIME',
    description: 'a GET stream is ended this long after it was opened, however busy; clients reconnect with Last-Event-ID',
    schema: v.integer(5, 7 * 86_400),
    default: 1800,
  },
  { key: 'stateless', flag: '--stateless', env: 'MCP_STATELESS', description: 'no sessions: every POST stands alone (no GET stream, no server-to-client requests)', schema: v.boolean, default: false },
  { key: 'publicUrl', flag: '--public-url <url>', env: 'MCP_PUBLIC_URL', description: 'external base URL shown on the home page and used as the resource identifier', schema: v.publicUrl },
  {
    key: 'keysFile',
    flag: '--keys-file <file>',
    env: 'MCP_KEYS_FILE',
    description: 'keys file managed by `mcp-warden keys` (hashes, expiry, per-key tools/limits/IPs); reloaded on change and on SIGHUP',
    schema: v.nonEmpty,
  },
  {
    key: 'jwtJwksUrl',
    flag: '--jwt-jwks-url <url>',
    env: 'MCP_JWT_JWKS_URL',
    description: 'accept OAuth 2.1 bearer JWTs signed by keys from this JWKS (https, or http on loopback)',
    schema: v.jwksUrl,
  },
  { key: 'jwtIssuer', flag: '--jwt-issuer <iss>', env: 'MCP_JWT_ISSUER', description: 'required `iss` of accepted JWTs (the authorization server)', schema: v.nonEmpty },
  {
    key: 'jwtAudience',
    flag: '--jwt-audience <aud>',
    env: 'MCP_JWT_AUDIENCE',
    description: 'required `aud` of accepted JWTs: this server (defaults to --public-url)',
    schema: v.nonEmpty,
  },
  {
    key: 'jwtAlgorithms',
    flag: '--jwt-algorithms <list>',
    env: 'MCP_JWT_ALGORITHMS',
    description: 'accepted JWS algorithms (asymmetric only; none and HS* are refused)',
    schema: v.jwtAlgorithms,
    default: ['RS256', 'PS256', 'ES256', 'EdDSA'],
  },
  {
    key: 'jwtScopePrefix',
    flag: '--jwt-scope-prefix <prefix>',
    env: 'MCP_JWT_SCOPE_PREFIX',
    description: 'token scope `<prefix>tools` grants every tool, `<prefix>tools:<name>` one tool',
    schema: v.scopePrefix,
    default: 'mcp:',
  },
  {
    key: 'allowIps',
    flag: '--allow-ip <cidr>',
    repeatable: true,
    env: 'MCP_ALLOW_IPS',
    description: 'only these client addresses/CIDRs may connect (repeatable; env: comma-separated)',
    schema: v.addresses,
    default: [],
  },
  {
    key: 'denyIps',
    flag: '--deny-ip <cidr>',
    repeatable: true,
    env: 'MCP_DENY_IPS',
    description: 'client addresses/CIDRs refused with 403 before any other work (repeatable; env: comma-separated)',
    schema: v.addresses,
    default: [],
  },
  { key: 'auditLog', flag: '--audit-log <file>', env: 'MCP_AUDIT_LOG', description: 'append a hash-chained JSON line per security event to this file', schema: v.nonEmpty },
  {
    key: 'auditArguments',
    flag: '--audit-arguments <mode>',
    env: 'MCP_AUDIT_ARGUMENTS',
    description: 'tool arguments in the audit trail: none, hash (SHA-256) or full',
    schema: v.auditArguments,
    default: 'none',
  },
  { key: 'auditMaxBytes', flag: '--audit-max-bytes <bytes>', env: 'MCP_AUDIT_MAX_BYTES', description: 'rotate the audit file past this size', schema: v.integer(4096, 1024 * 1024 * 1024), default: 10 * 1024 * 1024 },
  { key: 'auditMaxFiles', flag: '--audit-max-files <n>', env: 'MCP_AUDIT_MAX_FILES', description: 'rotated audit files kept (FILE.1 … FILE.n)', schema: v.integer(1, 10_000), default: 10 },
  {
    key: 'auditKey',
    env: 'MCP_AUDIT_KEY',
    description: 'secret for HMAC-SHA256 chaining of the audit trail (environment only); without it the chain uses plain SHA-256',
    schema: v.auditKey,
  },
  {
    key: 'auditRefusalsLog',
    flag: '--audit-refusals-log <file>',
    env: 'MCP_AUDIT_REFUSALS_LOG',
    description: 'write refusal records and their aggregates to this second hash-chained file (own rotation), so floods never rotate away the main trail',
    schema: v.nonEmpty,
  },
  {
    key: 'auditAggregateInterval',
    flag: '--audit-aggregate-interval <seconds>',
    env: 'MCP_AUDIT_AGGREGATE_INTERVAL',
    description: 'repeated refusals per client and kind: first recorded at once, the rest counted in one record per interval (0: record every refusal)',
    schema: v.integer(0, 86_400),
    default: 60,
  },
  {
    key: 'logAggregateInterval',
    flag: '--log-aggregate-interval <seconds>',
    env: 'MCP_LOG_AGGREGATE_INTERVAL',
    description: 'refused requests per client and reason: first logged, the rest counted in one summary line per interval (0: a line per request)',
    schema: v.integer(0, 86_400),
    default: 60,
  },
  {
    key: 'metricsToken',
    flag: '--metrics-token <token>',
    env: 'MCP_METRICS_TOKEN',
    description: 'bearer token for GET /metrics (instead of an API key), for Prometheus scrapers',
    schema: v.bearerToken,
  },
  {
    key: 'banThreshold',
    flag: '--ban-threshold <n>',
    env: 'MCP_BAN_THRESHOLD',
    description: 'authentication failures from one client within a minute that trigger a temporary ban (0 disables)',
    schema: v.integer(0, 100_000),
    default: 20,
  },
  { key: 'banSeconds', flag: '--ban-seconds <seconds>', env: 'MCP_BAN_SECONDS', description: 'length of a temporary ban', schema: v.integer(1, 7 * 86_400), default: 300 },
  {
    key: 'banMaxClients',
    flag: '--ban-max-clients <n>',
    env: 'MCP_BAN_MAX_CLIENTS',
    description: 'clients whose authentication failures are counted at once; beyond it the least recently failing client is forgotten (bounds memory)',
    schema: v.integer(1, 10_000_000),
    default: 100_000,
  },
  {
    key: 'redisUrl',
    flag: '--redis-url <url>',
    env: 'MCP_REDIS_URL',
    description: 'share rate limits, sessions, bans and key updates between replicas through this Redis (redis:// or rediss://)',
    schema: v.redisUrl,
  },
  {
    key: 'redisFailure',
    flag: '--redis-failure <policy>',
    env: 'MCP_REDIS_FAILURE',
    description: 'when Redis is down or slow: open (fall back to per-replica limits) or closed (answer 503)',
    schema: v.failurePolicy,
    default: 'open',
  },
  { key: 'redisTimeout', flag: '--redis-timeout <ms>', env: 'MCP_REDIS_TIMEOUT', description: 'timeout of every Redis call, ms', schema: v.integer(5, 5000), default: 50 },
  {
    key: 'redisSyncTimeout',
    flag: '--redis-sync-timeout <seconds>',
    env: 'MCP_REDIS_SYNC_TIMEOUT',
    description: 'how long a starting replica answers 503 (not ready) while it cannot read the revocations and bans in Redis; then open serves anyway (logged), closed keeps waiting',
    schema: v.integer(0, 86_400),
    default: 30,
  },
  {
    key: 'redisPrefix',
    flag: '--redis-prefix <prefix>',
    env: 'MCP_REDIS_PREFIX',
    description: 'prefix of every Redis key and channel (several deployments can share one Redis)',
    schema: v.redisPrefix,
    default: 'mcpw:',
  },
  {
    key: 'sharedSecret',
    env: 'MCP_SHARED_SECRET',
    description:
      'secret the replicas share and Redis does not: signs bus messages and records in Redis, and the requestState of multi round-trip tools (environment or config file only; required with --redis-url)',
    schema: v.sharedSecret,
  },
  {
    key: 'sharedSecretFile',
    flag: '--shared-secret-file <file>',
    env: 'MCP_SHARED_SECRET_FILE',
    description: 'read the shared secret from this file (e.g. a mounted Secret), instead of MCP_SHARED_SECRET',
    schema: v.nonEmpty,
  },
  {
    key: 'sharedSecretPrevious',
    env: 'MCP_SHARED_SECRET_PREVIOUS',
    description: 'the shared secret being rotated out: still accepted, never used to sign (environment or config file only)',
    schema: v.sharedSecret,
  },
  {
    key: 'sharedSecretPreviousFile',
    flag: '--shared-secret-previous-file <file>',
    env: 'MCP_SHARED_SECRET_PREVIOUS_FILE',
    description: 'read the previous shared secret from this file, instead of MCP_SHARED_SECRET_PREVIOUS',
    schema: v.nonEmpty,
  },
  {
    key: 'requestStateTtl',
    flag: '--request-state-ttl <seconds>',
    env: 'MCP_REQUEST_STATE_TTL',
    description: 'how long the requestState a multi round-trip tool hands the client stays valid (at most 3600)',
    schema: v.requestStateTtl,
    default: 600,
  },
  {
    key: 'headersTimeout',
    flag: '--headers-timeout <seconds>',
    env: 'MCP_HEADERS_TIMEOUT',
    description: 'time a client has to send the request line and headers, from connecting or from the start of a request (408 and close beyond)',
    schema: v.integer(1, 600),
    default: 10,
  },
  {
    key: 'requestTimeout',
    flag: '--request-timeout <seconds>',
    env: 'MCP_REQUEST_TIMEOUT',
    description: 'time a client has to send a whole request, headers and body (408 and close beyond); responses and SSE streams are not limited by it',
    schema: v.integer(1, 3600),
    default: 30,
  },
  {
    key: 'keepAliveTimeout',
    flag: '--keep-alive-timeout <seconds>',
    env: 'MCP_KEEP_ALIVE_TIMEOUT',
    description: 'idle time after a response before a kept-alive connection is closed',
    schema: v.integer(1, 600),
    default: 5,
  },
  {
    key: 'lingerTimeout',
    flag: '--linger-timeout <seconds>',
    env: 'MCP_LINGER_TIMEOUT',
    description: 'after an error answer to a request whose body was not read, how long the rest is read and discarded before closing (0 closes at once)',
    schema: v.integer(0, 60),
    default: 5,
  },
  {
    key: 'maxConnections',
    flag: '--max-connections <n>',
    env: 'MCP_MAX_CONNECTIONS',
    description: 'TCP connections held at once from all clients; beyond it new ones get a bare 503 (default: 75% of the open-files limit)',
    schema: v.integer(1, 10_000_000),
  },
  {
    key: 'maxConnectionsPerIp',
    flag: '--max-connections-per-ip <n>',
    env: 'MCP_MAX_CONNECTIONS_PER_IP',
    description: 'TCP connections one client address (IPv6: one /64) may hold at once; trusted proxies are exempt (default: a tenth of --max-connections, 16 to 256)',
    schema: v.integer(1, 10_000_000),
  },
  { key: 'shutdownTimeout', flag: '--shutdown-timeout <seconds>', env: 'MCP_SHUTDOWN_TIMEOUT', description: 'how long in-flight requests may run after SIGTERM/SIGINT', schema: v.integer(0, 600), default: 10 },
] as const satisfies readonly OptionSpec[];

export type OptionKey = (typeof OPTION_SPECS)[number]['key'];
