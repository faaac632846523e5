/**
 * @module config/options
 * The table of every server option: its command-line flag, environment variable, config-file
 * key, default and validator. The CLI builds its flags from this table, `loadConfig` reads env
 * and file through it, and the README's option table is checked against it by a test.
 */

import { isIP } from 'node:net';
import { z } from 'zod';

/** Where a value came from; shown in error messages so operators find the bad setting. */
export type OptionSource = 'flag' | 'env' | 'value' | 'file' | 'default';

/** Log levels pino understands (`silent` turns logging off). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How the client address is derived when a proxy sits in front (see `--trust-proxy`). */
export type TrustProxy =
  | { readonly kind: 'none' }
  | { readonly kind: 'hops'; readonly hops: number }
  | { readonly kind: 'addresses'; readonly ranges: readonly string[] };

const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Splits a comma-separated env/flag value; arrays from a config file pass through. */
function list(value: unknown): unknown {
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }
  return value;
}

function integer(min: number, max: number) {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value),
    z
      .number({ error: `expected an integer from ${min} to ${max}` })
      .int({ error: `expected an integer from ${min} to ${max}` })
      .min(min, { error: `expected an integer from ${min} to ${max}` })
      .max(max, { error: `expected an integer from ${min} to ${max}` }),
  );
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

const boolean = z.preprocess(
  (value) => {
    if (typeof value !== 'string') return value;
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return value;
  },
  z.boolean({ error: 'expected true or false' }),
);

/** Parses one CIDR or address; returns false when it is not one. */
export function isCidrOrAddress(text: string): boolean {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash === -1) return true;
  const bitsText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bitsText)) return false;
  const bits = Number(bitsText);
  return bits <= (family === 4 ? 32 : 128);
}

const trustProxy = z.preprocess(
  (value) => {
    if (value === undefined || value === false) return { kind: 'none' };
    // Trusting every hop lets any client choose its own address (and reset its rate limit).
    if (value === true || (typeof value === 'string' && value.trim().toLowerCase() === 'true')) return { kind: 'everyone' };
    if (typeof value === 'number') return { kind: 'hops', hops: value };
    if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return { kind: 'hops', hops: Number(value) };
    if (typeof value === 'string' && ['false', 'none', 'off', ''].includes(value.trim().toLowerCase())) {
      return { kind: 'none' };
    }
    const ranges = list(value);
    if (Array.isArray(ranges)) return { kind: 'addresses', ranges };
    return value;
  },
  z.discriminatedUnion(
    'kind',
    [
      z.object({ kind: z.literal('none') }),
      z.object({
        kind: z.literal('hops'),
        hops: z.number().int().min(0, { error: 'hop count must be 0 or more' }).max(10, { error: 'hop count must be at most 10' }),
      }),
      z.object({
        kind: z.literal('addresses'),
        ranges: z
          .array(
            z.string().refine((range) => PROXY_RANGE_NAMES.has(range) || isCidrOrAddress(range), {
              error: 'expected CIDRs or addresses (e.g. 10.0.0.0/8), loopback, linklocal or uniquelocal',
            }),
          )
          .min(1, { error: 'expected at least one CIDR or a hop count' }),
      }),
    ],
    { error: 'expected a hop count (e.g. 1) or a comma-separated list of proxy CIDRs; "true" (trust everyone) is refused' },
  ),
);

/** The replicas' shared secret: long enough to resist guessing (`mcp-warden keygen` makes one). */
export const sharedSecret = z
  .string()
  .min(32, { error: 'expected at least 32 characters (use `mcp-warden keygen`)' })
  .max(1024, { error: 'expected at most 1024 characters' });

/** An API key as configured: long enough to resist guessing, printable, no separators. */
const apiKey = z
  .string()
  .refine((key) => key.length >= 16, { error: 'each API key must be at least 16 characters (use `mcp-warden keygen`)' })
  .refine((key) => key.length <= 512, { error: 'each API key must be at most 512 characters' })
  // Same alphabet as a bearer token (RFC 6750 §2.1 b64token), or the header could never match.
  .refine((key) => /^[A-Za-z0-9\-._~+/]+=*$/.test(key), {
    error: 'API keys may contain only letters, digits and - . _ ~ + / (then = padding)',
  });

const origin = z.string().refine(
  (value) => {
    if (value === '*') return false;
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value.replace(/\/$/, '');
    } catch {
      return false;
    }
  },
  { error: 'expected origins like https://app.example.com (scheme://host[:port], no path; "*" is refused)' },
);

const hostName = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, { error: 'expected host names like mcp.example.com or mcp.example.com:8443' });

const publicUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '';
    } catch {
      return false;
    }
  },
  { error: 'expected an absolute http(s) URL without query or fragment' },
);

/** JWS algorithms accepted for OAuth tokens: asymmetric only (RFC 8725 §3.1, §3.2). */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

function isJwksUrl(value: string): boolean {
  try {
    const url = new URL(value);
    if (url.protocol === 'https:') return true;
    // Plain http only on loopback (a local authorization server or tests): a JWKS fetched
    // over the network without TLS would let anyone on the path mint tokens.
    return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'redis:' || url.protocol === 'rediss:';
  } catch {
    return false;
  }
}

const host = z
  .string()
  .min(1)
  .refine((value) => isIP(value) !== 0 || /^[A-Za-z0-9.-]+$/.test(value), { error: 'expected an IP address or host name' });

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
  { key: 'port', flag: '--port <number>', env: 'PORT', description: 'TCP port to listen on (0 picks a free port)', schema: integer(0, 65535), default: 8443 },
  { key: 'host', flag: '--host <address>', env: 'HOST', description: 'address to bind; non-loopback addresses require an API key', schema: host, default: '127.0.0.1' },
  {
    key: 'apiKeys',
    flag: '--api-key <key>',
    repeatable: true,
    env: 'MCP_API_KEYS',
    description: 'API key accepted as `Authorization: Bearer <key>`; repeat for several (env: comma-separated). Keys from all sources are combined. A key in argv shows in `ps` and logs: prefer the env var or --keys-file',
    schema: z.preprocess(list, z.array(apiKey)),
    default: [],
  },
  {
    key: 'envKeys',
    flag: '--env-keys',
    description: 'require keys from MCP_API_KEYS (start fails when it is empty)',
    schema: boolean,
    default: false,
  },
  { key: 'rateLimit', flag: '--rate-limit <n>', env: 'MCP_RATE_LIMIT', description: 'requests allowed per client IP in any rolling window', schema: integer(1, 1_000_000), default: 100 },
  { key: 'rateWindow', flag: '--rate-window <seconds>', env: 'MCP_RATE_WINDOW', description: 'length of the rolling rate-limit window in seconds', schema: integer(1, 86_400), default: 60 },
  {
    key: 'rateLimitMaxClients',
    flag: '--rate-limit-max-clients <n>',
    env: 'MCP_RATE_LIMIT_MAX_CLIENTS',
    description: 'client IPs tracked at once; beyond it new clients share one overflow limit (bounds memory)',
    schema: integer(100, 10_000_000),
    default: 200_000,
  },
  {
    key: 'trustProxy',
    flag: '--trust-proxy <hops|cidrs>',
    env: 'MCP_TRUST_PROXY',
    description: 'trust X-Forwarded-For from this many proxy hops, or from these proxy CIDRs; off by default',
    schema: trustProxy,
    default: { kind: 'none' },
  },
  {
    key: 'corsOrigins',
    flag: '--cors-origin <origin>',
    repeatable: true,
    env: 'MCP_CORS_ORIGINS',
    description: 'browser origin allowed to call the API (repeatable; env: comma-separated); none by default',
    schema: z.preprocess(list, z.array(origin)),
    default: [],
  },
  {
    key: 'allowedHosts',
    flag: '--allowed-host <host>',
    repeatable: true,
    env: 'MCP_ALLOWED_HOSTS',
    description: 'Host header values accepted besides loopback names (DNS-rebinding protection); when set, enforced on any bind address',
    schema: z.preprocess(list, z.array(hostName)),
    default: [],
  },
  {
    key: 'logLevel',
    flag: '--log-level <level>',
    env: 'MCP_LOG_LEVEL',
    description: `log level: ${LOG_LEVELS.join(', ')}`,
    schema: z.preprocess((value) => (typeof value === 'string' ? value.trim().toLowerCase() : value), z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` })),
    default: 'info',
  },
  {
    key: 'monitoring',
    flag: '--no-monitoring',
    env: 'MCP_ENABLE_MONITORING',
    description: 'request/auth/rate-limit counters shown by /api/status and server_status (on by default)',
    schema: boolean,
    default: true,
  },
  { key: 'bodyLimit', flag: '--body-limit <bytes>', env: 'MCP_BODY_LIMIT', description: 'largest request body accepted; larger bodies get 413', schema: integer(1024, 64 * 1024 * 1024), default: 1024 * 1024 },
  {
    key: 'eventStoreBytes',
    flag: '--event-store-bytes <bytes>',
    env: 'MCP_EVENT_STORE_BYTES',
    description: 'UTF-8 bytes of recent SSE events kept for resumption in all (per process in memory; for all replicas together in Redis); oldest go first',
    schema: integer(0, 2 ** 40),
    default: 64 * 1024 * 1024,
  },
  {
    key: 'eventStorePrincipalBytes',
    flag: '--event-store-principal-bytes <bytes>',
    env: 'MCP_EVENT_STORE_PRINCIPAL_BYTES',
    description: 'UTF-8 bytes of recent SSE events kept for one key or token subject over all its streams',
    schema: integer(0, 2 ** 40),
    default: 16 * 1024 * 1024,
  },
  {
    key: 'eventStoreStreamBytes',
    flag: '--event-store-stream-bytes <bytes>',
    env: 'MCP_EVENT_STORE_STREAM_BYTES',
    description: 'UTF-8 bytes of recent SSE events kept per stream (larger events are not shared through Redis)',
    schema: integer(0, 2 ** 40),
    default: 1024 * 1024,
  },
  { key: 'maxSessions', flag: '--max-sessions <n>', env: 'MCP_MAX_SESSIONS', description: 'MCP sessions held at once; beyond it initialize gets 503', schema: integer(1, 1_000_000), default: 10_000 },
  {
    key: 'maxSessionsPerKey',
    flag: '--max-sessions-per-key <n>',
    env: 'MCP_MAX_SESSIONS_PER_KEY',
    description: 'MCP sessions one key or token subject may hold at once (keeps one caller from taking all of --max-sessions)',
    schema: integer(1, 1_000_000),
    default: 1000,
  },
  {
    key: 'sessionTtl',
    flag: '--session-ttl <seconds>',
    env: 'MCP_SESSION_TTL',
    description: 'idle time after which a session is closed (an open GET stream alone does not keep it alive)',
    schema: integer(10, 7 * 86_400),
    default: 1800,
  },
  {
    key: 'sessionUnusedTtl',
    flag: '--session-unused-ttl <seconds>',
    env: 'MCP_SESSION_UNUSED_TTL',
    description: 'idle time after which a session that did nothing after initialize is closed (probes that never send DELETE)',
    schema: integer(5, 7 * 86_400),
    default: 60,
  },
  {
    key: 'streamIdleTimeout',
    flag: '--stream-idle-timeout <seconds>',
    env: 'MCP_STREAM_IDLE_TIMEOUT',
    description: 'a GET stream that carried no message for this long is ended; clients reconnect with Last-Event-ID',
    schema: integer(5, 7 * 86_400),
    default: 300,
  },
  {
    key: 'streamMaxLifetime',
    flag: '--stream-max-lifetime <seconds>',
    env: 'MCP_STREAM_MAX_LIFETIME',
    description: 'a GET stream is ended this long after it was opened, however busy; clients reconnect with Last-Event-ID',
    schema: integer(5, 7 * 86_400),
    default: 1800,
  },
  { key: 'stateless', flag: '--stateless', env: 'MCP_STATELESS', description: 'no sessions: every POST stands alone (no GET stream, no server-to-client requests)', schema: boolean, default: false },
  { key: 'publicUrl', flag: '--public-url <url>', env: 'MCP_PUBLIC_URL', description: 'external base URL shown on the home page and used as the resource identifier', schema: publicUrl },
  {
    key: 'keysFile',
    flag: '--keys-file <file>',
    env: 'MCP_KEYS_FILE',
    description: 'keys file managed by `mcp-warden keys` (hashes, expiry, per-key tools/limits/IPs); reloaded on change and on SIGHUP',
    schema: z.string().min(1),
  },
  {
    key: 'jwtJwksUrl',
    flag: '--jwt-jwks-url <url>',
    env: 'MCP_JWT_JWKS_URL',
    description: 'accept OAuth 2.1 bearer JWTs signed by keys from this JWKS (https, or http on loopback)',
    schema: z.string().refine(isJwksUrl, { error: 'expected an https URL (http only for loopback hosts)' }),
  },
  { key: 'jwtIssuer', flag: '--jwt-issuer <iss>', env: 'MCP_JWT_ISSUER', description: 'required `iss` of accepted JWTs (the authorization server)', schema: z.string().min(1) },
  {
    key: 'jwtAudience',
    flag: '--jwt-audience <aud>',
    env: 'MCP_JWT_AUDIENCE',
    description: 'required `aud` of accepted JWTs: this server (defaults to --public-url)',
    schema: z.string().min(1),
  },
  {
    key: 'jwtAlgorithms',
    flag: '--jwt-algorithms <list>',
    env: 'MCP_JWT_ALGORITHMS',
    description: 'accepted JWS algorithms (asymmetric only; none and HS* are refused)',
    schema: z.preprocess(
      list,
      z
        .array(z.enum(JWT_ALGORITHMS, { error: `expected some of ${JWT_ALGORITHMS.join(', ')} (none and HMAC algorithms are refused)` }))
        .min(1, { error: 'expected at least one algorithm' }),
    ),
    default: ['RS256', 'PS256', 'ES256', 'EdDSA'],
  },
  {
    key: 'jwtScopePrefix',
    flag: '--jwt-scope-prefix <prefix>',
    env: 'MCP_JWT_SCOPE_PREFIX',
    description: 'token scope `<prefix>tools` grants every tool, `<prefix>tools:<name>` one tool',
    schema: z.string().max(64).regex(/^[\x21-\x7e]*$/, { error: 'expected printable characters without spaces' }),
    default: 'mcp:',
  },
  {
    key: 'allowIps',
    flag: '--allow-ip <cidr>',
    repeatable: true,
    env: 'MCP_ALLOW_IPS',
    description: 'only these client addresses/CIDRs may connect (repeatable; env: comma-separated)',
    schema: z.preprocess(list, z.array(z.string().refine(isCidrOrAddress, { error: 'expected IP addresses or CIDRs such as 10.0.0.0/8 or 2001:db8::/32' }))),
    default: [],
  },
  {
    key: 'denyIps',
    flag: '--deny-ip <cidr>',
    repeatable: true,
    env: 'MCP_DENY_IPS',
    description: 'client addresses/CIDRs refused with 403 before any other work (repeatable; env: comma-separated)',
    schema: z.preprocess(list, z.array(z.string().refine(isCidrOrAddress, { error: 'expected IP addresses or CIDRs such as 10.0.0.0/8 or 2001:db8::/32' }))),
    default: [],
  },
  { key: 'auditLog', flag: '--audit-log <file>', env: 'MCP_AUDIT_LOG', description: 'append a hash-chained JSON line per security event to this file', schema: z.string().min(1) },
  {
    key: 'auditArguments',
    flag: '--audit-arguments <mode>',
    env: 'MCP_AUDIT_ARGUMENTS',
    description: 'tool arguments in the audit trail: none, hash (SHA-256) or full',
    schema: z.enum(['none', 'hash', 'full'], { error: 'expected none, hash or full' }),
    default: 'none',
  },
  { key: 'auditMaxBytes', flag: '--audit-max-bytes <bytes>', env: 'MCP_AUDIT_MAX_BYTES', description: 'rotate the audit file past this size', schema: integer(4096, 1024 * 1024 * 1024), default: 10 * 1024 * 1024 },
  { key: 'auditMaxFiles', flag: '--audit-max-files <n>', env: 'MCP_AUDIT_MAX_FILES', description: 'rotated audit files kept (FILE.1 … FILE.n)', schema: integer(1, 10_000), default: 10 },
  {
    key: 'auditKey',
    env: 'MCP_AUDIT_KEY',
    description: 'secret for HMAC-SHA256 chaining of the audit trail (environment only); without it the chain uses plain SHA-256',
    schema: z.string().min(16, { error: 'expected at least 16 characters' }),
  },
  {
    key: 'auditRefusalsLog',
    flag: '--audit-refusals-log <file>',
    env: 'MCP_AUDIT_REFUSALS_LOG',
    description: 'write refusal records and their aggregates to this second hash-chained file (own rotation), so floods never rotate away the main trail',
    schema: z.string().min(1),
  },
  {
    key: 'auditAggregateInterval',
    flag: '--audit-aggregate-interval <seconds>',
    env: 'MCP_AUDIT_AGGREGATE_INTERVAL',
    description: 'repeated refusals per client and kind: first recorded at once, the rest counted in one record per interval (0: record every refusal)',
    schema: integer(0, 86_400),
    default: 60,
  },
  {
    key: 'logAggregateInterval',
    flag: '--log-aggregate-interval <seconds>',
    env: 'MCP_LOG_AGGREGATE_INTERVAL',
    description: 'refused requests per client and reason: first logged, the rest counted in one summary line per interval (0: a line per request)',
    schema: integer(0, 86_400),
    default: 60,
  },
  {
    key: 'metricsToken',
    flag: '--metrics-token <token>',
    env: 'MCP_METRICS_TOKEN',
    description: 'bearer token for GET /metrics (instead of an API key), for Prometheus scrapers',
    schema: z.string().min(16, { error: 'expected at least 16 characters' }).regex(/^[A-Za-z0-9\-._~+/]+=*$/, { error: 'expected a bearer token (letters, digits, - . _ ~ + /)' }),
  },
  {
    key: 'banThreshold',
    flag: '--ban-threshold <n>',
    env: 'MCP_BAN_THRESHOLD',
    description: 'authentication failures from one client within a minute that trigger a temporary ban (0 disables)',
    schema: integer(0, 100_000),
    default: 20,
  },
  { key: 'banSeconds', flag: '--ban-seconds <seconds>', env: 'MCP_BAN_SECONDS', description: 'length of a temporary ban', schema: integer(1, 7 * 86_400), default: 300 },
  {
    key: 'banMaxClients',
    flag: '--ban-max-clients <n>',
    env: 'MCP_BAN_MAX_CLIENTS',
    description: 'clients whose authentication failures are counted at once; beyond it the least recently failing client is forgotten (bounds memory)',
    schema: integer(1, 10_000_000),
    default: 100_000,
  },
  {
    key: 'redisUrl',
    flag: '--redis-url <url>',
    env: 'MCP_REDIS_URL',
    description: 'share rate limits, sessions, bans and key updates between replicas through this Redis (redis:// or rediss://)',
    schema: z.string().refine(isRedisUrl, { error: 'expected a redis:// or rediss:// URL' }),
  },
  {
    key: 'redisFailure',
    flag: '--redis-failure <policy>',
    env: 'MCP_REDIS_FAILURE',
    description: 'when Redis is down or slow: open (fall back to per-replica limits) or closed (answer 503)',
    schema: z.enum(['open', 'closed'], { error: 'expected open or closed' }),
    default: 'open',
  },
  { key: 'redisTimeout', flag: '--redis-timeout <ms>', env: 'MCP_REDIS_TIMEOUT', description: 'timeout of every Redis call, ms', schema: integer(5, 5000), default: 50 },
  {
    key: 'redisSyncTimeout',
    flag: '--redis-sync-timeout <seconds>',
    env: 'MCP_REDIS_SYNC_TIMEOUT',
    description: 'how long a starting replica answers 503 (not ready) while it cannot read the revocations and bans in Redis; then open serves anyway (logged), closed keeps waiting',
    schema: integer(0, 86_400),
    default: 30,
  },
  {
    key: 'redisPrefix',
    flag: '--redis-prefix <prefix>',
    env: 'MCP_REDIS_PREFIX',
    description: 'prefix of every Redis key and channel (several deployments can share one Redis)',
    schema: z.string().min(1).max(64).regex(/^[A-Za-z0-9:_.-]+$/, { error: 'expected letters, digits and : _ . -' }),
    default: 'mcpw:',
  },
  {
    key: 'sharedSecret',
    env: 'MCP_SHARED_SECRET',
    description: 'secret the replicas share and Redis does not: signs bus messages and records in Redis (environment or config file only; required with --redis-url)',
    schema: sharedSecret,
  },
  {
    key: 'sharedSecretFile',
    flag: '--shared-secret-file <file>',
    env: 'MCP_SHARED_SECRET_FILE',
    description: 'read the shared secret from this file (e.g. a mounted Secret), instead of MCP_SHARED_SECRET',
    schema: z.string().min(1),
  },
  {
    key: 'sharedSecretPrevious',
    env: 'MCP_SHARED_SECRET_PREVIOUS',
    description: 'the shared secret being rotated out: still accepted, never used to sign (environment or config file only)',
    schema: sharedSecret,
  },
  {
    key: 'sharedSecretPreviousFile',
    flag: '--shared-secret-previous-file <file>',
    env: 'MCP_SHARED_SECRET_PREVIOUS_FILE',
    description: 'read the previous shared secret from this file, instead of MCP_SHARED_SECRET_PREVIOUS',
    schema: z.string().min(1),
  },
  {
    key: 'headersTimeout',
    flag: '--headers-timeout <seconds>',
    env: 'MCP_HEADERS_TIMEOUT',
    description: 'time a client has to send the request line and headers, from connecting or from the start of a request (408 and close beyond)',
    schema: integer(1, 600),
    default: 10,
  },
  {
    key: 'requestTimeout',
    flag: '--request-timeout <seconds>',
    env: 'MCP_REQUEST_TIMEOUT',
    description: 'time a client has to send a whole request, headers and body (408 and close beyond); responses and SSE streams are not limited by it',
    schema: integer(1, 3600),
    default: 30,
  },
  {
    key: 'keepAliveTimeout',
    flag: '--keep-alive-timeout <seconds>',
    env: 'MCP_KEEP_ALIVE_TIMEOUT',
    description: 'idle time after a response before a kept-alive connection is closed',
    schema: integer(1, 600),
    default: 5,
  },
  {
    key: 'lingerTimeout',
    flag: '--linger-timeout <seconds>',
    env: 'MCP_LINGER_TIMEOUT',
    description: 'after an error answer to a request whose body was not read, how long the rest is read and discarded before closing (0 closes at once)',
    schema: integer(0, 60),
    default: 5,
  },
  {
    key: 'maxConnections',
    flag: '--max-connections <n>',
    env: 'MCP_MAX_CONNECTIONS',
    description: 'TCP connections held at once from all clients; beyond it new ones get a bare 503 (default: 75% of the open-files limit)',
    schema: integer(1, 10_000_000),
  },
  {
    key: 'maxConnectionsPerIp',
    flag: '--max-connections-per-ip <n>',
    env: 'MCP_MAX_CONNECTIONS_PER_IP',
    description: 'TCP connections one client address (IPv6: one /64) may hold at once; trusted proxies are exempt (default: a tenth of --max-connections, 16 to 256)',
    schema: integer(1, 10_000_000),
  },
  { key: 'shutdownTimeout', flag: '--shutdown-timeout <seconds>', env: 'MCP_SHUTDOWN_TIMEOUT', description: 'how long in-flight requests may run after SIGTERM/SIGINT', schema: integer(0, 600), default: 10 },
] as const satisfies readonly OptionSpec[];

export type OptionKey = (typeof OPTION_SPECS)[number]['key'];
