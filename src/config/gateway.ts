/**
 * @module config/gateway
 * The gateway part of the configuration: the config file's `gateway` / `mcpServers` objects
 * and the one-liner's upstream (`mcp-warden [options] -- <command> [args...]`), parsed once by
 * `gateway/config` with the environment for `${VAR}`.
 *
 * The one-liner's command and arguments were expanded by the shell already: a `${` in them is
 * kept literally (escaped as `$${` before parsing). Its name is `--upstream-name`, or derived
 * from the command ({@link commandUpstreamName}). It may be combined with a config file's
 * gateway options and upstreams (a name given twice is an error).
 */

import { basename } from 'node:path';
import { isWardenError } from '../errors.js';
import { parseGatewayConfig, type EnvMap, type GatewayConfig } from '../gateway/config.js';

/** Commands that run something named by their arguments (the name comes from what they run). */
const LAUNCHERS = new Set(['npx', 'npm', 'pnpm', 'pnpx', 'yarn', 'bun', 'bunx', 'uv', 'uvx', 'pipx', 'node', 'nodejs', 'deno', 'python', 'python3', 'py', 'docker', 'podman', 'env', 'sh', 'bash']);
/** Path segments and launcher subcommands that say nothing about the server. */
const GENERIC = new Set(['index', 'main', 'dist', 'build', 'out', 'src', 'lib', 'bin', 'cli', 'run', 'exec', 'x', 'dlx', 'start', 'serve', 'server', 'stdio', '.', '..', '']);

/** `name` without its directory-free extension and a version or tag (`pkg@1.2.3`, `image:latest`). */
function bare(segment: string): string {
  let name = segment;
  const at = name.lastIndexOf('@');
  if (at > 0) name = name.slice(0, at);
  const colon = name.lastIndexOf(':');
  if (colon > 0) name = name.slice(0, colon);
  return name.replace(/\.(exe|cmd|bat|js|mjs|cjs|ts|py)$/i, '');
}

/** The last path segment of `value` that names something (skipping `dist`, `index.js`...). */
function meaningful(value: string): string | undefined {
  const segments = value.split(/[\\/]/).map(bare);
  for (let index = segments.length - 1; index >= 0; index--) {
    const segment = segments[index] as string;
    if (!GENERIC.has(segment.toLowerCase()) && !segment.startsWith('@')) return segment;
  }
  return undefined;
}

/**
 * The upstream name the one-liner gets from its command: the command's base name, or for a
 * launcher (`npx`, `node`, `uvx`, `docker`...) the package, script or image it runs; made of
 * `A-Z a-z 0-9 _ -` (other characters become `-`, `__` becomes `_`), at most 64 characters.
 *
 * @example
 * commandUpstreamName(['npx', '-y', '@modelcontextprotocol/server-everything']); // 'server-everything'
 * commandUpstreamName(['node', '/opt/server-everything/dist/index.js', 'stdio']); // 'server-everything'
 * commandUpstreamName(['uvx', 'mcp-server-git']);                                // 'mcp-server-git'
 */
export function commandUpstreamName(argv: readonly string[]): string {
  const [command = '', ...args] = argv;
  let name = meaningful(command) ?? '';
  if (LAUNCHERS.has(bare(basename(command)).toLowerCase())) {
    const target = args.find((arg) => !arg.startsWith('-') && !GENERIC.has(arg.toLowerCase()));
    name = (target === undefined ? undefined : meaningful(target)) ?? name;
  }
  const clean = name
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/_{2,}/g, '_')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, 64)
    .replace(/[-_]+$/, '');
  return clean === '' ? 'upstream' : clean;
}

/** `${` kept literally by the `${VAR}` expansion (the shell expanded the one-liner already). */
function literal(value: string): string {
  // A function replacement: in a replacement string `$$` would stand for one `$`.
  return value.replaceAll('${', () => '$${');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The one-liner: an upstream command (after `--`) and its name. */
export interface CommandUpstream {
  readonly argv: readonly string[];
  readonly name: string | undefined;
}

/**
 * The gateway configuration of a config file (`file`, already parsed JSON) plus the one-liner's
 * upstream; undefined when neither names an upstream. Problems are pushed to `problems`.
 */
export function gatewayOf(file: Readonly<Record<string, unknown>>, env: EnvMap, configPath: string | undefined, command: CommandUpstream | undefined, problems: string[]): Readonly<GatewayConfig> | undefined {
  let raw: Record<string, unknown> = { ...file };
  if (command !== undefined && command.argv.length > 0) {
    const name = command.name ?? commandUpstreamName(command.argv);
    const gateway = raw['gateway'] === undefined ? {} : raw['gateway'];
    const servers = isObject(gateway) && isObject(gateway['mcpServers']) ? gateway['mcpServers'] : isObject(raw['mcpServers']) ? raw['mcpServers'] : {};
    if (Object.hasOwn(servers, name)) problems.push(`--upstream-name: an upstream named "${name}" is in the config file too; give the command's upstream another name`);
    else if (isObject(gateway)) {
      const [program, ...args] = command.argv as [string, ...string[]];
      const { mcpServers: _top, ...rest } = raw;
      raw = { ...rest, gateway: { ...gateway, mcpServers: { ...servers, [name]: { command: literal(program), args: args.map(literal) } } } };
    }
  } else if (command?.name !== undefined) {
    problems.push('--upstream-name names the upstream command given after "--" (mcp-warden [options] -- <command> [args...]); none was given');
  }
  try {
    return parseGatewayConfig(raw, env, { configPath });
  } catch (error) {
    if (isWardenError(error) && error.code === 'WARDEN_ERR_CONFIG' && 'problems' in error) problems.push(...(error as { problems: readonly string[] }).problems);
    else throw error;
    return undefined;
  }
}
