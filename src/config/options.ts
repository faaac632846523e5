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
    description: 'API key accepted as `Authorization: Bearer <key>`; repeat for several (env: comma-separated). Keys from all sources are combined',
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
  { key: 'maxSessions', flag: '--max-sessions <n>', env: 'MCP_MAX_SESSIONS', description: 'MCP sessions held at once; beyond it initialize gets 503', schema: integer(1, 1_000_000), default: 10_000 },
  { key: 'sessionTtl', flag: '--session-ttl <seconds>', env: 'MCP_SESSION_TTL', description: 'idle time after which a session is closed', schema: integer(10, 7 * 86_400), default: 1800 },
  { key: 'stateless', flag: '--stateless', env: 'MCP_STATELESS', description: 'no sessions: every POST stands alone (no GET stream, no server-to-client requests)', schema: boolean, default: false },
  { key: 'publicUrl', flag: '--public-url <url>', env: 'MCP_PUBLIC_URL', description: 'external base URL shown on the home page and used as the resource identifier', schema: publicUrl },
  { key: 'shutdownTimeout', flag: '--shutdown-timeout <seconds>', env: 'MCP_SHUTDOWN_TIMEOUT', description: 'how long in-flight requests may run after SIGTERM/SIGINT', schema: integer(0, 600), default: 10 },
] as const satisfies readonly OptionSpec[];

export type OptionKey = (typeof OPTION_SPECS)[number]['key'];
