/**
 * @module config/validators
 * The zod validators behind the option table: integers in a range, booleans spelled the way
 * environments spell them, comma lists, CIDRs, `--trust-proxy`, secrets, URLs and host names.
 * Each accepts the string a flag or environment variable gives and the JSON a config file gives.
 */

import { isIP } from 'node:net';
import { z } from 'zod';

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
export function list(value: unknown): unknown {
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }
  return value;
}

export function integer(min: number, max: number) {
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

export const boolean = z.preprocess(
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

export const trustProxy = z.preprocess(
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

/** Seconds a multi round-trip `requestState` stays valid: at most an hour (MCP asks for a short expiry). */
export const requestStateTtl = integer(1, 3600);

/** An API key as configured: long enough to resist guessing, printable, no separators. */
export const apiKey = z
  .string()
  .refine((key) => key.length >= 16, { error: 'each API key must be at least 16 characters (use `mcp-warden keygen`)' })
  .refine((key) => key.length <= 512, { error: 'each API key must be at most 512 characters' })
  // Same alphabet as a bearer token (RFC 6750 §2.1 b64token), or the header could never match.
  .refine((key) => /^[A-Za-z0-9\-._~+/]+=*$/.test(key), {
    error: 'API keys may contain only letters, digits and - . _ ~ + / (then = padding)',
  });

export const origin = z.string().refine(
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

export const hostName = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, { error: 'expected host names like mcp.example.com or mcp.example.com:8443' });

export const publicUrl = z.string().refine(
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

/**
 * An OAuth issuer identifier (RFC 8414 §2): https, no query or fragment, and here no path (the
 * metadata lives at the origin's /.well-known/oauth-authorization-server); plain http only on
 * loopback (tests, a local try-out).
 */
function isIssuerUrl(value: string): boolean {
  try {
    const url = new URL(value);
    if (url.search !== '' || url.hash !== '' || url.pathname !== '/' || url.username !== '' || url.password !== '') return false;
    if (url.protocol === 'https:') return true;
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

export const host = z
  .string()
  .min(1)
  .refine((value) => isIP(value) !== 0 || /^[A-Za-z0-9.-]+$/.test(value), { error: 'expected an IP address or host name' });

/** A non-empty string: file paths, issuer and audience names. */
export const nonEmpty = z.string().min(1);

export const logLevel = z.preprocess(
  (value) => (typeof value === 'string' ? value.trim().toLowerCase() : value),
  z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }),
);

/** Comma-separated (env, flag) or JSON-array (file) lists. */
export const apiKeys = z.preprocess(list, z.array(apiKey));
export const origins = z.preprocess(list, z.array(origin));
export const hostNames = z.preprocess(list, z.array(hostName));
export const addresses = z.preprocess(
  list,
  z.array(z.string().refine(isCidrOrAddress, { error: 'expected IP addresses or CIDRs such as 10.0.0.0/8 or 2001:db8::/32' })),
);

export const jwksUrl = z.string().refine(isJwksUrl, { error: 'expected an https URL (http only for loopback hosts)' });

/** `--oauth-issuer`: the origin, normalised without a trailing slash (the `iss` clients compare byte for byte, RFC 9207). */
export const oauthIssuer = z
  .string()
  .refine(isIssuerUrl, { error: 'expected the public https origin of this server, without path, query or fragment (http only for loopback hosts)' })
  .transform((value) => new URL(value).origin);

/** `--oauth-upstream-issuer`: an issuer identifier (may have a path, as Keycloak realms and Okta servers do), no trailing slash. */
export const upstreamIssuer = z
  .string()
  .refine((value) => isJwksUrl(value) && !value.includes('?') && !value.includes('#'), { error: 'expected the provider\'s https issuer URL, without query or fragment (http only for loopback hosts)' })
  .transform((value) => value.replace(/\/$/, ''));

export const upstreamScopes = z.preprocess(
  list,
  z
    .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { error: 'expected scope tokens (RFC 6749 §3.3)' }))
    .refine((scopes) => scopes.includes('openid'), { error: 'expected the list to include openid' }),
);

export const jwtAlgorithms = z.preprocess(
  list,
  z
    .array(z.enum(JWT_ALGORITHMS, { error: `expected some of ${JWT_ALGORITHMS.join(', ')} (none and HMAC algorithms are refused)` }))
    .min(1, { error: 'expected at least one algorithm' }),
);

export const scopePrefix = z.string().max(64).regex(/^[\x21-\x7e]*$/, { error: 'expected printable characters without spaces' });

/** A gateway upstream's name (`gateway/config` UPSTREAM_NAME). */
export const upstreamName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected 1 to 64 of A-Z a-z 0-9 _ -' });

export const auditArguments = z.enum(['none', 'hash', 'full'], { error: 'expected none, hash or full' });

/** The audit chain's HMAC key. */
export const auditKey = z.string().min(16, { error: 'expected at least 16 characters' });

/** The /metrics bearer token: a bearer token's alphabet (RFC 6750 §2.1), long enough to resist guessing. */
export const bearerToken = z
  .string()
  .min(16, { error: 'expected at least 16 characters' })
  .regex(/^[A-Za-z0-9\-._~+/]+=*$/, { error: 'expected a bearer token (letters, digits, - . _ ~ + /)' });

export const redisUrl = z.string().refine(isRedisUrl, { error: 'expected a redis:// or rediss:// URL' });

export const failurePolicy = z.enum(['open', 'closed'], { error: 'expected open or closed' });

export const redisPrefix = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9:_.-]+$/, { error: 'expected letters, digits and : _ . -' });

/** One per-tool rate limit (`--tool-rate-limit calculate=30/60s`): `limit` calls per credential in any rolling `windowMs`. */
export interface ToolRateLimit {
  readonly tool: string;
  readonly limit: number;
  readonly windowMs: number;
}

/** MCP tool names (2025-11-25 server/tools §tool names): 1-128 of A-Z a-z 0-9 _ - . */
export const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const TOOL_WINDOW = /^(\d{1,9})(ms|s|m|h)$/;
const WINDOW_UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
export const TOOL_WINDOW_MIN_MS = 1000;
export const TOOL_WINDOW_MAX_MS = 86_400_000;
export const TOOL_LIMIT_MAX = 1_000_000;
/** Bounds on what the option may configure: each distinct window costs a limiter (and its memory). */
export const MAX_TOOL_RATE_LIMITS = 256;
export const MAX_TOOL_RATE_WINDOWS = 16;

const TOOL_RATE_LIMIT_FORM = 'expected tool=n/window, e.g. calculate=30/60s (tool: 1-128 of A-Z a-z 0-9 _ - .; n: 1 to 1000000; window: a number with ms, s, m or h, from 1s to 24h)';

/** Config text shown back to the operator in an error, clipped so a huge value cannot flood the message. */
function shown(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/** `n/window` → limit and window, or the reason it is not one. */
function parseToolQuota(text: string): { limit: number; windowMs: number } | string {
  const slash = text.indexOf('/');
  const count = slash === -1 ? '' : text.slice(0, slash).trim();
  const window = TOOL_WINDOW.exec(slash === -1 ? '' : text.slice(slash + 1).trim());
  if (!/^\d{1,9}$/.test(count) || window === null) return TOOL_RATE_LIMIT_FORM;
  return checkQuota(Number(count), Number(window[1]) * WINDOW_UNIT_MS[window[2] as keyof typeof WINDOW_UNIT_MS]);
}

/** Checks a parsed limit's numbers (the text form is checked by {@link parseToolQuota}). */
function checkQuota(limit: unknown, windowMs: unknown): { limit: number; windowMs: number } | string {
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > TOOL_LIMIT_MAX) return `n must be from 1 to ${TOOL_LIMIT_MAX}`;
  if (!Number.isInteger(windowMs) || (windowMs as number) < TOOL_WINDOW_MIN_MS || (windowMs as number) > TOOL_WINDOW_MAX_MS) return 'the window must be from 1s to 24h';
  return { limit: limit as number, windowMs: windowMs as number };
}

/** The tool and quota of one entry before the name is checked, or the reason it has none. */
function splitEntry(item: unknown): { tool: unknown; quota: { limit: number; windowMs: number } | string; text: string } | string {
  if (typeof item === 'string') {
    const equals = item.indexOf('=');
    if (equals === -1) return `${shown(item)}: ${TOOL_RATE_LIMIT_FORM}`;
    return { tool: item.slice(0, equals).trim(), quota: parseToolQuota(item.slice(equals + 1)), text: item };
  }
  if (Array.isArray(item) && item.length === 2) {
    // An entry of the config-file object { "tool": "n/window" }.
    const [tool, quota] = item as [unknown, unknown];
    const text = `${String(tool)}=${String(quota)}`;
    return { tool, quota: typeof quota === 'string' ? parseToolQuota(quota) : TOOL_RATE_LIMIT_FORM, text };
  }
  if (typeof item === 'object' && item !== null) {
    // The parsed form: given in code, and what a validated config is checked again with.
    const { tool, limit, windowMs, ...rest } = item as Record<string, unknown>;
    if (Object.keys(rest).length > 0) return TOOL_RATE_LIMIT_FORM;
    return { tool, quota: checkQuota(limit, windowMs), text: String(tool) };
  }
  return TOOL_RATE_LIMIT_FORM;
}

/** One entry: `tool=n/window` text, a `[tool, "n/window"]` pair from a config-file object, or an already parsed limit. */
function parseToolRateLimit(item: unknown): ToolRateLimit | string {
  const entry = splitEntry(item);
  if (typeof entry === 'string') return entry;
  if (typeof entry.quota === 'string') return `${shown(entry.text)}: ${entry.quota}`;
  if (typeof entry.tool !== 'string' || !TOOL_NAME.test(entry.tool)) return `${shown(String(entry.tool))}: not a tool name (1-128 of A-Z a-z 0-9 _ - .)`;
  return { tool: entry.tool, limit: entry.quota.limit, windowMs: entry.quota.windowMs };
}

/**
 * Per-tool rate limits: `tool=n/window` entries, comma-separated (env) or repeated (flag), or in
 * a config file as an array of such strings or an object `{ "tool": "n/window" }`. Parsed here,
 * once, into a list; a tool named twice is an error.
 */
export const toolRateLimits = z.preprocess(
  (value) => {
    const items = list(value);
    if (typeof items === 'object' && items !== null && !Array.isArray(items)) return Object.entries(items);
    return items;
  },
  z.array(z.unknown(), { error: 'expected tool=n/window entries (a list, or an object of tool → "n/window")' }).transform((items, context): readonly ToolRateLimit[] => {
    const limits: ToolRateLimit[] = [];
    const seen = new Set<string>();
    for (const item of items) {
      const parsed = parseToolRateLimit(item);
      if (typeof parsed === 'string') {
        context.issues.push({ code: 'custom', message: parsed, input: item });
        return z.NEVER;
      }
      if (seen.has(parsed.tool)) {
        context.issues.push({ code: 'custom', message: `duplicate tool ${shown(parsed.tool)} (give each tool one limit)`, input: item });
        return z.NEVER;
      }
      seen.add(parsed.tool);
      limits.push(Object.freeze(parsed));
    }
    if (limits.length > MAX_TOOL_RATE_LIMITS) {
      context.issues.push({ code: 'custom', message: `at most ${MAX_TOOL_RATE_LIMITS} tools`, input: items });
      return z.NEVER;
    }
    if (new Set(limits.map((entry) => entry.windowMs)).size > MAX_TOOL_RATE_WINDOWS) {
      context.issues.push({ code: 'custom', message: `at most ${MAX_TOOL_RATE_WINDOWS} distinct windows (each is a limiter of its own)`, input: items });
      return z.NEVER;
    }
    return Object.freeze(limits);
  }),
);
