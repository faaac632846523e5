/**
 * @module config/load
 * The one place that reads flags, environment and the config file. Precedence per option is
 * flag > env > file > default (API keys are the exception: all sources are combined).
 * Everything is validated once; one error lists every problem. Nothing else reads `process.env`.
 */

import { readFileSync, statSync } from 'node:fs';
import { WardenError } from '../errors.js';
import { isLoopbackHost } from '../security/hosts.js';
import { groupConfig, OPTIONS_SCHEMA, type Config } from './config.js';
import { gatewayOf } from './gateway.js';
import { JWT_ALGORITHMS, OPTION_SPECS, type OptionSource, type OptionSpec } from './options.js';
import { sharedSecret } from './validators.js';

export type { AuditConfig, Config, ConfigOptions, ConnectionsConfig, EventStoreConfig, OAuthConfig, RedisConfig, SessionsConfig } from './config.js';
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** Inputs of {@link loadConfig}: parsed flags (undefined = not given), environment, file reader. */
export interface ConfigInput {
  readonly flags?: Readonly<Record<string, unknown>>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Values given in code (the library API); between env and file in precedence. */
  readonly values?: Readonly<Record<string, unknown>>;
  /** Config file path; overrides `MCP_CONFIG`. */
  readonly configFile?: string;
  /** The one-liner's upstream: the command and arguments given after `--` (the gateway). */
  readonly upstreamCommand?: readonly string[];
  readonly readFile?: (path: string) => string;
}

/** Thrown by {@link loadConfig}; `problems` lists every invalid option. */
export class ConfigError extends WardenError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('WARDEN_ERR_CONFIG', { message: `Invalid configuration:\n  - ${problems.join('\n  - ')}` });
    this.problems = problems;
  }
}

/** Config-file keys besides the options: the gateway's upstreams and options (`config/gateway`). */
const GATEWAY_FILE_KEYS = ['gateway', 'mcpServers'];
const FILE_KEYS = new Set<string>([...OPTION_SPECS.filter((spec) => spec.key !== 'envKeys').map((spec) => spec.key), ...GATEWAY_FILE_KEYS]);

function describe(spec: OptionSpec, source: OptionSource, file: string | undefined): string {
  switch (source) {
    case 'flag':
      return spec.flag?.split(' ')[0] ?? spec.key;
    case 'env':
      return `${spec.env} (environment)`;
    case 'file':
      return `"${spec.key}" in ${file ?? 'config file'}`;
    case 'value':
      return `option ${spec.key}`;
    default:
      return `${spec.key} (default)`;
  }
}

function readConfigFile(path: string, reader: (path: string) => string, problems: string[], warnings: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = reader(path);
  } catch {
    problems.push(`config file ${path}: cannot be read`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    problems.push(`config file ${path}: not valid JSON`);
    return {};
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push(`config file ${path}: expected a JSON object`);
    return {};
  }
  const object = parsed as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    if (key === '$schema') continue;
    if (!FILE_KEYS.has(key)) problems.push(`config file ${path}: unknown option "${key}"`);
  }
  if (Array.isArray(object['apiKeys']) && object['apiKeys'].length > 0) {
    try {
      // Keys in a file readable by group or others are one `cat` away from leaking.
      if ((statSync(path).mode & 0o077) !== 0) {
        warnings.push(`config file ${path} holds API keys and is readable by other users; chmod 600 it or use MCP_API_KEYS`);
      }
    } catch {
      // stat failing after a successful read only loses the warning
    }
  }
  return object;
}

/** Reads `--shared-secret-file` and `--shared-secret-previous-file` into the secrets they name. */
function readSecretFiles(values: Record<string, unknown>, reader: (path: string) => string, problems: string[]): void {
  for (const [fileKey, key, name] of [
    ['sharedSecretFile', 'sharedSecret', 'MCP_SHARED_SECRET'],
    ['sharedSecretPreviousFile', 'sharedSecretPrevious', 'MCP_SHARED_SECRET_PREVIOUS'],
    ['oauthUpstreamClientSecretFile', 'oauthUpstreamClientSecret', 'MCP_OAUTH_UPSTREAM_CLIENT_SECRET'],
  ] as const) {
    const flag = { sharedSecretFile: '--shared-secret-file', sharedSecretPreviousFile: '--shared-secret-previous-file', oauthUpstreamClientSecretFile: '--oauth-upstream-client-secret-file' }[fileKey];
    const path = values[fileKey];
    if (typeof path !== 'string') continue;
    if (values[key] !== undefined) {
      problems.push(`${flag} and ${name} are both set; give one`);
      continue;
    }
    let text: string;
    try {
      text = reader(path);
    } catch {
      problems.push(`shared secret file ${path}: cannot be read`);
      continue;
    }
    // One trailing newline is what `echo` and editors add; it is not part of the secret.
    const trimmed = text.replace(/\r?\n$/, '');
    if (key === 'oauthUpstreamClientSecret') {
      if (trimmed === '') problems.push(`client secret file ${path}: empty`);
      else values[key] = trimmed;
      continue;
    }
    const result = sharedSecret.safeParse(trimmed);
    if (result.success) values[key] = result.data;
    else problems.push(`shared secret file ${path}: ${result.error.issues[0]?.message ?? 'invalid'}`);
  }
}

/** Warnings for secrets given as flags, which any user can read in the process listing. */
function argvWarnings(flags: Readonly<Record<string, unknown>>): string[] {
  const warnings: string[] = [];
  if (flags['apiKeys'] !== undefined) {
    warnings.push('API keys given with --api-key are visible in process listings; prefer MCP_API_KEYS or a config file with mode 0600');
  }
  if (flags['metricsToken'] !== undefined) {
    warnings.push('--metrics-token is visible in process listings; prefer MCP_METRICS_TOKEN');
  }
  return warnings;
}

/**
 * Builds the configuration from flags, environment and an optional JSON file.
 *
 * @example
 * const config = loadConfig({ flags: { port: '9000' }, env: process.env });
 * @throws ConfigError listing every invalid option.
 */
export function loadConfig(input: ConfigInput = {}): Readonly<Config> {
  const flags = input.flags ?? {};
  const env = input.env ?? {};
  const given = input.values ?? {};
  const problems: string[] = [];
  const warnings: string[] = [];
  const configFile = input.configFile ?? (env['MCP_CONFIG'] !== undefined && env['MCP_CONFIG'] !== '' ? env['MCP_CONFIG'] : undefined);
  const file = configFile === undefined ? {} : readConfigFile(configFile, input.readFile ?? ((path) => readFileSync(path, 'utf8')), problems, warnings);

  const values: Record<string, unknown> = {};
  for (const spec of OPTION_SPECS as readonly OptionSpec[]) {
    const candidates: Array<[OptionSource, unknown]> = [];
    if (flags[spec.key] !== undefined) candidates.push(['flag', flags[spec.key]]);
    if (spec.env !== undefined && env[spec.env] !== undefined && env[spec.env] !== '') candidates.push(['env', env[spec.env]]);
    if (given[spec.key] !== undefined) candidates.push(['value', given[spec.key]]);
    if (file[spec.key] !== undefined) candidates.push(['file', file[spec.key]]);

    if (spec.key === 'apiKeys') {
      // Keys from every source are combined: a file of team keys plus one from the environment.
      const keys: string[] = [];
      for (const [source, raw] of candidates) {
        const result = spec.schema.safeParse(raw);
        if (result.success) keys.push(...(result.data as string[]));
        else problems.push(`${describe(spec, source, configFile)}: ${result.error.issues[0]?.message ?? 'invalid'}`);
      }
      values[spec.key] = [...new Set(keys)];
      continue;
    }

    const winner = candidates[0];
    if (winner === undefined) {
      values[spec.key] = spec.default;
      continue;
    }
    const result = spec.schema.safeParse(winner[1]);
    if (result.success) values[spec.key] = result.data;
    else problems.push(`${describe(spec, winner[0], configFile)}: ${result.error.issues[0]?.message ?? 'invalid value'}`);
  }

  warnings.push(...argvWarnings(flags));
  if (values['jwtJwksUrl'] !== undefined) {
    if (values['jwtIssuer'] === undefined) problems.push('--jwt-jwks-url needs --jwt-issuer (the authorization server that issues the tokens)');
    if (values['jwtAudience'] === undefined && values['publicUrl'] === undefined) {
      problems.push('--jwt-jwks-url needs --jwt-audience or --public-url (tokens must be issued for this server)');
    }
  } else if (values['jwtIssuer'] !== undefined || values['jwtAudience'] !== undefined) {
    problems.push('--jwt-issuer/--jwt-audience have no effect without --jwt-jwks-url');
  }
  if (values['oauthIssuer'] !== undefined && values['jwtJwksUrl'] !== undefined) {
    problems.push('--oauth-issuer and --jwt-jwks-url exclude each other: mcp-warden is either its own authorization server or trusts another one');
  }
  if (values['oauthKeyFile'] !== undefined && values['oauthIssuer'] === undefined) problems.push('--oauth-key-file has no effect without --oauth-issuer');
  if ((values['oauthCimdAllowLoopback'] === true || values['oauthCimdCaFile'] !== undefined) && (values['oauthIssuer'] === undefined || values['oauthCimd'] === false)) {
    problems.push('--oauth-cimd-allow-loopback and --oauth-cimd-ca-file need --oauth-issuer with Client ID Metadata Documents on');
  }
  if (values['oauthCimdAllowLoopback'] === true) {
    warnings.push('--oauth-cimd-allow-loopback is on: client metadata documents are fetched from loopback addresses, over plain http too. FOR TESTS ONLY: never on a server anyone else can reach');
  }
  if (values['oauthIssuer'] !== undefined && values['publicUrl'] !== undefined && new URL(values['publicUrl'] as string).origin !== values['oauthIssuer']) {
    problems.push('--oauth-issuer must be the origin of --public-url (tokens are issued for <issuer>/mcp)');
  }
  if (typeof values['headersTimeout'] === 'number' && typeof values['requestTimeout'] === 'number' && values['headersTimeout'] > values['requestTimeout']) {
    problems.push('--headers-timeout must not exceed --request-timeout (the headers are part of the request)');
  }
  if (values['envKeys'] === true && (env['MCP_API_KEYS'] === undefined || env['MCP_API_KEYS'].trim() === '')) {
    problems.push('--env-keys: MCP_API_KEYS is empty or unset');
  }
  const apiKeys = values['apiKeys'] as string[] | undefined;
  const hasCredentials = (apiKeys !== undefined && apiKeys.length > 0) || values['keysFile'] !== undefined || values['jwtJwksUrl'] !== undefined;
  if (typeof values['host'] === 'string' && !isLoopbackHost(values['host']) && apiKeys !== undefined && !hasCredentials) {
    problems.push(
      `--host ${values['host']}: refusing to serve a non-loopback address without an API key; set MCP_API_KEYS (see \`mcp-warden keygen\`) or bind 127.0.0.1`,
    );
  }

  readSecretFiles(values, input.readFile ?? ((path) => readFileSync(path, 'utf8')), problems);
  if (values['oauthUpstreamIssuer'] !== undefined) {
    if (values['oauthIssuer'] === undefined) problems.push('--oauth-upstream-issuer needs --oauth-issuer (mcp-warden is the authorization server the clients see)');
    if (values['oauthUpstreamClientId'] === undefined) problems.push('--oauth-upstream-issuer needs --oauth-upstream-client-id');
    if (values['oauthUpstreamClientSecret'] === undefined) problems.push('--oauth-upstream-issuer needs MCP_OAUTH_UPSTREAM_CLIENT_SECRET or --oauth-upstream-client-secret-file');
    if (values['oauthUpstreamRules'] === undefined) problems.push('--oauth-upstream-issuer needs --oauth-upstream-rules (who gets which scopes)');
  } else if (['oauthUpstreamClientId', 'oauthUpstreamClientSecret', 'oauthUpstreamRules'].some((key) => values[key] !== undefined)) {
    problems.push('the --oauth-upstream-* options have no effect without --oauth-upstream-issuer');
  }
  if (values['redisUrl'] !== undefined && values['sharedSecret'] === undefined) {
    problems.push(
      '--redis-url needs a shared secret that the replicas hold and Redis does not: set MCP_SHARED_SECRET or --shared-secret-file (the same value on every replica, at least 32 characters; `mcp-warden keygen` makes one)',
    );
  }
  if (values['sharedSecretPrevious'] !== undefined && values['sharedSecret'] === undefined) {
    problems.push('MCP_SHARED_SECRET_PREVIOUS needs MCP_SHARED_SECRET (the secret that replaces it)');
  }

  const gateway = gatewayOf(
    file,
    env,
    configFile,
    input.upstreamCommand === undefined ? (values['upstreamName'] === undefined ? undefined : { argv: [], name: values['upstreamName'] as string }) : { argv: input.upstreamCommand, name: values['upstreamName'] as string | undefined },
    problems,
  );

  if (problems.length > 0) throw new ConfigError(problems);
  // Every value passed its option's schema above; this parse types them (no assertion needed).
  return groupConfig(OPTIONS_SCHEMA.parse(values), configFile, warnings, gateway);
}

/**
 * Validates options given in code over the defaults (no flags, no environment).
 *
 * @example
 * const config = configFromValues({ apiKeys: [key], port: 0 });
 */
export function configFromValues(values: Readonly<Record<string, unknown>> = {}): Readonly<Config> {
  return loadConfig({ values });
}
