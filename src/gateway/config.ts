/**
 * @module gateway/config
 * The gateway's upstreams, parsed once at the edge from the config file's `mcpServers` object
 * (the shape MCP clients keep: `command`/`args`/`env`/`cwd` for a stdio server, `url`/`headers`
 * for a remote one) plus our per-upstream keys, into a frozen {@link GatewayConfig}.
 *
 * Two places are read, so users can point us at the JSON they already keep: `gateway.mcpServers`
 * (next to `gateway.separator`, `gateway.maxChildren`, `gateway.maxChildrenPerKey`) and a
 * top-level `mcpServers`. Giving both is an error (which one wins would be a guess).
 *
 * `${VAR}` and `${VAR:-default}` are expanded in every string that reaches the upstream
 * (`command`, `args`, `env` values, `cwd`, `url`, `headers` values, `oauth` fields) from the env
 * map given, at load, never written back; `$${` is a literal `${`. As in the shell, `:-` applies
 * to an unset or empty variable. An unset variable without default is a config error naming the
 * upstream, the key and the variable. Expanded values never appear in an error: messages name
 * keys and variables only (they may hold tokens).
 *
 * Durations are seconds (as every other mcp-warden option), fractions allowed; the parsed config
 * holds milliseconds.
 *
 * Gateway-level security options sit under `gateway` too: `pinLock` (the lock file of tool
 * pinning; default `mcp-warden.lock.json` beside the config file, read when present),
 * `newTools` (`allow` | `hold`) and `secrets` (`off` | `redact` | `block`).
 */

import { dirname, join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../config/load.js';
import { isLoopbackHost } from '../security/hosts.js';
import { LOCK_FILE_NAME } from './pinning.js';

/** How connections to an upstream are shared between client sessions. */
export type Isolation = 'session' | 'shared';
/** The era the upstream client negotiates: 2025 `initialize` only, or probe for 2026-07-28 first. */
export type VersionNegotiation = 'legacy' | 'auto';

/** Keys every upstream has, whatever its transport. */
export interface UpstreamLimits {
  /** `session`: a connection per client session (stdio default); `shared`: `poolSize` connections round-robin (remote default). */
  readonly isolation: Isolation;
  /** Connections of a `shared` upstream. */
  readonly poolSize: number;
  /** Spawn (or connect) and initialize must finish within this, ms. */
  readonly spawnTimeoutMs: number;
  /** One call (request to the upstream) must be answered within this, ms. */
  readonly callTimeoutMs: number;
  /** Calls in flight to this upstream at once (all its connections); as many more may wait. */
  readonly maxConcurrency: number;
  /** Largest message accepted from the upstream, bytes; a larger result is answered with an error. */
  readonly maxResultBytes: number;
  readonly versionNegotiation: VersionNegotiation;
}

/** A server we spawn and talk to over stdin/stdout. */
export interface StdioUpstreamConfig extends UpstreamLimits {
  readonly kind: 'stdio';
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Only these (plus the minimal base of `child-transport`) reach the child. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | undefined;
}

/** OAuth 2.0 client credentials grant (RFC 6749 §4.4) for a remote upstream. */
export interface UpstreamOAuthConfig {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string | undefined;
}

/** A server reached over HTTP. */
export interface RemoteUpstreamConfig extends UpstreamLimits {
  readonly kind: 'remote';
  readonly name: string;
  readonly url: string;
  readonly transport: 'streamable-http' | 'sse';
  /** Sent on every request to the upstream; our clients' headers never are. */
  readonly headers: Readonly<Record<string, string>>;
  readonly oauth: UpstreamOAuthConfig | undefined;
  /** Test-only: skip TLS certificate verification (logged as a warning at every connect). */
  readonly allowInsecureTls: boolean;
}

export type UpstreamConfig = StdioUpstreamConfig | RemoteUpstreamConfig;

/** The lock file of tool pinning: where, and whether a missing file is an empty lock. */
export interface PinLockConfig {
  readonly path: string;
  /** True for the default beside the config file (missing: nothing pinned yet); false when named (missing: an error). */
  readonly optional: boolean;
}

export interface GatewayConfig {
  /** In the order of the config file. */
  readonly upstreams: readonly UpstreamConfig[];
  /** Between the upstream name and a tool/prompt/resource name: `<upstream><separator><name>`. */
  readonly separator: string;
  /** Child processes at once, all upstreams together. */
  readonly maxChildren: number;
  /** Child processes at once owned by one principal (credential). */
  readonly maxChildrenPerKey: number;
  /** Tool pinning's lock file; undefined: none (every tool is new). */
  readonly pinLock: PinLockConfig | undefined;
  /** Tools the lock does not name: shown and callable (`allow`), or hidden and refused until pinned (`hold`). */
  readonly newTools: 'allow' | 'hold';
  /** Secrets in tool results, in responses: `off` (sent as they are), `redact`, `block`. The audit trail and logs always redact. */
  readonly secrets: 'off' | 'redact' | 'block';
}

/** Environment the `${VAR}` references read (the composition root passes `process.env`). */
export type EnvMap = Readonly<Record<string, string | undefined>>;

export const UPSTREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SEPARATOR = /^[A-Za-z0-9_.\-/:]{1,8}$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Defaults, before the per-transport isolation default. */
export const UPSTREAM_DEFAULTS = {
  poolSize: 1,
  spawnTimeout: 30,
  callTimeout: 60,
  maxConcurrency: 64,
  maxResultBytes: 4 * 1024 * 1024,
} as const;
export const GATEWAY_DEFAULTS = { separator: '__', maxChildren: 64, maxChildrenPerKey: 8, newTools: 'allow', secrets: 'off' } as const;

const seconds = (max: number) => z.number({ error: `expected seconds from 0.01 to ${max}` }).min(0.01, { error: `expected seconds from 0.01 to ${max}` }).max(max, { error: `expected seconds from 0.01 to ${max}` });
const int = (min: number, max: number) =>
  z.number({ error: `expected an integer from ${min} to ${max}` }).int({ error: `expected an integer from ${min} to ${max}` }).min(min, { error: `expected an integer from ${min} to ${max}` }).max(max, { error: `expected an integer from ${min} to ${max}` });
const text = z.string({ error: 'expected a string' });
const stringMap = z.record(z.string(), text, { error: 'expected an object of strings' });

const COMMON = {
  isolation: z.enum(['session', 'shared'], { error: 'expected "session" or "shared"' }).optional(),
  poolSize: int(1, 64).optional(),
  spawnTimeout: seconds(600).optional(),
  callTimeout: seconds(3600).optional(),
  maxConcurrency: int(1, 10_000).optional(),
  maxResultBytes: int(16_384, 256 * 1024 * 1024).optional(),
  versionNegotiation: z.enum(['legacy', 'auto'], { error: 'expected "legacy" or "auto"' }).optional(),
  /** Accepted from client configs: `disabled: true` leaves the upstream out. */
  disabled: z.boolean({ error: 'expected true or false' }).optional(),
};

const STDIO_SCHEMA = z.strictObject(
  {
    type: z.literal('stdio', { error: 'expected "stdio" for a server with "command"' }).optional(),
    command: text.min(1, { error: 'must not be empty' }),
    args: z.array(text, { error: 'expected an array of strings' }).max(1000).optional(),
    env: stringMap.optional(),
    cwd: text.min(1, { error: 'must not be empty' }).optional(),
    ...COMMON,
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((key) => `"${key}"`).join(', ')}` : 'expected an object') },
);

const OAUTH_SCHEMA = z.strictObject(
  { tokenUrl: text, clientId: text.min(1, { error: 'must not be empty' }), clientSecret: text.min(1, { error: 'must not be empty' }), scope: text.optional() },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((key) => `"${key}"`).join(', ')}` : 'expected an object') },
);

const REMOTE_SCHEMA = z.strictObject(
  {
    // Client configs spell the transport `type` ("http" is Streamable HTTP); ours is `transport`.
    type: z.enum(['http', 'streamable-http', 'streamableHttp', 'sse'], { error: 'expected "http", "streamable-http" or "sse"' }).optional(),
    url: text,
    headers: stringMap.optional(),
    transport: z.enum(['streamable-http', 'sse'], { error: 'expected "streamable-http" or "sse"' }).optional(),
    oauth: OAUTH_SCHEMA.optional(),
    allowInsecureTls: z.boolean({ error: 'expected true or false' }).optional(),
    ...COMMON,
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((key) => `"${key}"`).join(', ')}` : 'expected an object') },
);

const GATEWAY_KEYS = {
  mcpServers: z.record(z.string(), z.unknown(), { error: 'expected an object of servers' }),
  separator: text.regex(SEPARATOR, { error: 'expected 1 to 8 of A-Z a-z 0-9 _ . - / :' }),
  maxChildren: int(1, 100_000),
  maxChildrenPerKey: int(1, 100_000),
  pinLock: text.min(1, { error: 'must not be empty' }),
  newTools: z.enum(['allow', 'hold'], { error: 'expected "allow" or "hold"' }),
  secrets: z.enum(['off', 'redact', 'block'], { error: 'expected "off", "redact" or "block"' }),
};
type GatewayKeys = { -readonly [K in keyof typeof GATEWAY_KEYS]?: z.infer<(typeof GATEWAY_KEYS)[K]> };

/** The `gateway` object, key by key (a bad key does not hide the problems of the others). */
function parseGatewayKeys(raw: unknown, problems: string[]): GatewayKeys {
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push('gateway: expected an object');
    return {};
  }
  const unknown = Object.keys(raw).filter((key) => !(key in GATEWAY_KEYS));
  if (unknown.length > 0) problems.push(`gateway: unknown key(s) ${unknown.map((key) => `"${key}"`).join(', ')}`);
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(GATEWAY_KEYS)) {
    const value = (raw as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const parsed = schema.safeParse(value);
    if (parsed.success) out[key] = parsed.data;
    else issuesOf(parsed.error, `gateway.${key}`, problems);
  }
  return out as GatewayKeys;
}

/**
 * Expands `${VAR}` / `${VAR:-default}` in `value`; `$${` stays a literal `${`. Problems name
 * `where` and the variable, never a value.
 */
export function expand(value: string, env: EnvMap, where: string, problems: string[]): string {
  if (!value.includes('${')) return value;
  let out = '';
  let index = 0;
  while (index < value.length) {
    const start = value.indexOf('${', index);
    if (start === -1) {
      out += value.slice(index);
      break;
    }
    if (start > index && value[start - 1] === '$') {
      // `$${` → a literal `${` (the first `$` escapes the reference).
      out += value.slice(index, start - 1) + '${';
      index = start + 2;
      continue;
    }
    out += value.slice(index, start);
    const end = value.indexOf('}', start + 2);
    if (end === -1) {
      problems.push(`${where}: unterminated "\${" (write "$\${" for a literal)`);
      return '';
    }
    const body = value.slice(start + 2, end);
    const split = body.indexOf(':-');
    const name = split === -1 ? body : body.slice(0, split);
    if (!VARIABLE.test(name)) {
      problems.push(`${where}: "\${${name.slice(0, 64)}}" is not a variable name`);
      return '';
    }
    const current = env[name];
    if (split !== -1) {
      out += current === undefined || current === '' ? body.slice(split + 2) : current;
    } else if (current === undefined) {
      problems.push(`${where}: environment variable ${name} is not set (use \${${name}:-default} for a default)`);
      return '';
    } else {
      out += current;
    }
    index = end + 1;
  }
  return out;
}

function issuesOf(error: z.ZodError, where: string, problems: string[]): void {
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    problems.push(`${path === '' ? where : `${where}.${path}`}: ${issue.message}`);
  }
}

function limitsOf(data: z.infer<typeof STDIO_SCHEMA> | z.infer<typeof REMOTE_SCHEMA>, kind: 'stdio' | 'remote'): UpstreamLimits {
  return {
    isolation: data.isolation ?? (kind === 'stdio' ? 'session' : 'shared'),
    poolSize: data.poolSize ?? UPSTREAM_DEFAULTS.poolSize,
    spawnTimeoutMs: Math.round((data.spawnTimeout ?? UPSTREAM_DEFAULTS.spawnTimeout) * 1000),
    callTimeoutMs: Math.round((data.callTimeout ?? UPSTREAM_DEFAULTS.callTimeout) * 1000),
    maxConcurrency: data.maxConcurrency ?? UPSTREAM_DEFAULTS.maxConcurrency,
    maxResultBytes: data.maxResultBytes ?? UPSTREAM_DEFAULTS.maxResultBytes,
    versionNegotiation: data.versionNegotiation ?? (kind === 'stdio' ? 'legacy' : 'auto'),
  };
}

function expandMap(map: Readonly<Record<string, string>> | undefined, env: EnvMap, where: string, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(map ?? {})) out[key] = expand(value, env, `${where}.${key}`, problems);
  return out;
}

/** An http(s) URL; `secret` URLs (token endpoints) must be https unless loopback. Never echoes the value. */
function checkUrl(value: string, where: string, problems: string[], secret: boolean): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${where}: not a valid URL`);
    return;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`${where}: expected an http or https URL`);
  else if (url.username !== '' || url.password !== '') problems.push(`${where}: credentials in the URL are not allowed (use headers or oauth)`);
  else if (secret && url.protocol === 'http:' && !isLoopbackHost(url.hostname.replace(/^\[|\]$/g, ''))) problems.push(`${where}: must be https (it receives the client secret)`);
}

function parseUpstream(name: string, raw: unknown, env: EnvMap, problems: string[]): UpstreamConfig | undefined {
  const where = `mcpServers.${name}`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${where}: expected an object`);
    return undefined;
  }
  const hasCommand = 'command' in raw;
  const hasUrl = 'url' in raw;
  if (hasCommand === hasUrl) {
    problems.push(`${where}: give either "command" (a stdio server) or "url" (a remote server)`);
    return undefined;
  }
  if (hasCommand) {
    const parsed = STDIO_SCHEMA.safeParse(raw);
    if (!parsed.success) return void issuesOf(parsed.error, where, problems);
    const data = parsed.data;
    if (data.disabled === true) return undefined;
    const env_ = expandMap(data.env, env, `${where}.env`, problems);
    for (const key of Object.keys(env_)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) problems.push(`${where}.env: "${key.slice(0, 64)}" is not a variable name`);
    const config: StdioUpstreamConfig = {
      kind: 'stdio',
      name,
      command: expand(data.command, env, `${where}.command`, problems),
      args: Object.freeze((data.args ?? []).map((arg, index) => expand(arg, env, `${where}.args.${index}`, problems))),
      env: Object.freeze(env_),
      cwd: data.cwd === undefined ? undefined : expand(data.cwd, env, `${where}.cwd`, problems),
      ...limitsOf(data, 'stdio'),
    };
    return Object.freeze(config);
  }
  const parsed = REMOTE_SCHEMA.safeParse(raw);
  if (!parsed.success) return void issuesOf(parsed.error, where, problems);
  const data = parsed.data;
  if (data.disabled === true) return undefined;
  const url = expand(data.url, env, `${where}.url`, problems);
  checkUrl(url, `${where}.url`, problems, false);
  const headers = expandMap(data.headers, env, `${where}.headers`, problems);
  for (const [key, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(key)) problems.push(`${where}.headers: "${key.slice(0, 64)}" is not a header name`);
    else if (/[\r\n\0]/.test(value)) problems.push(`${where}.headers.${key}: contains a line break or NUL`);
  }
  const typeTransport = data.type === undefined ? undefined : data.type === 'sse' ? 'sse' : 'streamable-http';
  if (data.transport !== undefined && typeTransport !== undefined && data.transport !== typeTransport) problems.push(`${where}: "type" and "transport" disagree`);
  let oauth: UpstreamOAuthConfig | undefined;
  if (data.oauth !== undefined) {
    const tokenUrl = expand(data.oauth.tokenUrl, env, `${where}.oauth.tokenUrl`, problems);
    checkUrl(tokenUrl, `${where}.oauth.tokenUrl`, problems, true);
    oauth = Object.freeze({
      tokenUrl,
      clientId: expand(data.oauth.clientId, env, `${where}.oauth.clientId`, problems),
      clientSecret: expand(data.oauth.clientSecret, env, `${where}.oauth.clientSecret`, problems),
      scope: data.oauth.scope === undefined ? undefined : expand(data.oauth.scope, env, `${where}.oauth.scope`, problems),
    });
    if (Object.keys(headers).some((key) => key.toLowerCase() === 'authorization')) problems.push(`${where}: give "headers.Authorization" or "oauth", not both`);
  }
  const config: RemoteUpstreamConfig = {
    kind: 'remote',
    name,
    url,
    transport: data.transport ?? typeTransport ?? 'streamable-http',
    headers: Object.freeze(headers),
    oauth,
    allowInsecureTls: data.allowInsecureTls ?? false,
    ...limitsOf(data, 'remote'),
  };
  return Object.freeze(config);
}

/**
 * Parses the gateway part of a config file object (`gateway: {...}` and/or a top-level
 * `mcpServers`). Returns `undefined` when the file configures no upstream server at all.
 * Other top-level keys are not looked at (the option table owns them).
 *
 * @example
 * const gateway = parseGatewayConfig(JSON.parse(readFileSync(file, 'utf8')), process.env);
 * // { upstreams: [{ kind: 'stdio', name: 'everything', command: 'npx', ... }], separator: '__', ... }
 * @throws ConfigError listing every problem (keys and variable names only, never values).
 */
export function parseGatewayConfig(raw: unknown, env: EnvMap, options: { readonly configPath?: string | undefined } = {}): Readonly<GatewayConfig> | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(['config: expected a JSON object']);
  const file = raw as Record<string, unknown>;
  const problems: string[] = [];
  const gateway = parseGatewayKeys(file['gateway'], problems);
  let servers: Record<string, unknown> | undefined = gateway.mcpServers;
  if (file['mcpServers'] !== undefined) {
    if (servers !== undefined) problems.push('config: give "mcpServers" or "gateway.mcpServers", not both');
    const top = file['mcpServers'];
    if (top === null || typeof top !== 'object' || Array.isArray(top)) problems.push('mcpServers: expected an object of servers');
    else servers = top as Record<string, unknown>;
  }
  if (servers === undefined && problems.length === 0) return undefined;

  const separator = gateway.separator ?? GATEWAY_DEFAULTS.separator;
  const upstreams: UpstreamConfig[] = [];
  for (const [name, value] of Object.entries(servers ?? {})) {
    if (!UPSTREAM_NAME.test(name)) {
      problems.push(`mcpServers: "${name.slice(0, 64)}" is not a valid name (1 to 64 of A-Z a-z 0-9 _ -)`);
      continue;
    }
    if (name.includes(separator)) problems.push(`mcpServers.${name}: the name contains the separator "${separator}" (names would be ambiguous)`);
    const upstream = parseUpstream(name, value, env, problems);
    if (upstream !== undefined) upstreams.push(upstream);
  }
  if (servers !== undefined && Object.keys(servers).length === 0) problems.push('mcpServers: no server configured');
  for (const problem of prefixCollisions(upstreams.map((upstream) => upstream.name), separator)) problems.push(problem);
  const maxChildren = gateway.maxChildren ?? GATEWAY_DEFAULTS.maxChildren;
  const maxChildrenPerKey = gateway.maxChildrenPerKey ?? GATEWAY_DEFAULTS.maxChildrenPerKey;
  if (maxChildrenPerKey > maxChildren) problems.push('gateway.maxChildrenPerKey: must not exceed gateway.maxChildren');
  if (problems.length > 0) throw new ConfigError(problems);
  const pinLock: PinLockConfig | undefined =
    gateway.pinLock !== undefined
      ? { path: gateway.pinLock, optional: false }
      : options.configPath === undefined
        ? undefined
        : { path: join(dirname(options.configPath), LOCK_FILE_NAME), optional: true };
  return Object.freeze({
    upstreams: Object.freeze(upstreams),
    separator,
    maxChildren,
    maxChildrenPerKey,
    pinLock: pinLock === undefined ? undefined : Object.freeze(pinLock),
    newTools: gateway.newTools ?? GATEWAY_DEFAULTS.newTools,
    secrets: gateway.secrets ?? GATEWAY_DEFAULTS.secrets,
  });
}

/**
 * Names that would make a prefixed name ambiguous: `<a><sep>` a prefix of `<b><sep>` (with
 * separator `__`, upstreams `a` and `a_` both claim `a___x`). Each problem names both.
 */
export function prefixCollisions(names: readonly string[], separator: string): string[] {
  const problems: string[] = [];
  for (const a of names) {
    for (const b of names) {
      if (a !== b && `${b}${separator}`.startsWith(`${a}${separator}`)) problems.push(`mcpServers.${b}: "${b}${separator}…" also starts with "${a}${separator}" (prefixed names would be ambiguous; rename one)`);
    }
  }
  return problems;
}
