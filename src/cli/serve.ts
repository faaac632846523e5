/**
 * @module cli/serve
 * `mcp-warden serve` (the default command): loads the configuration, starts the server,
 * prints the one-time key when none was configured, and stops gracefully on SIGTERM/SIGINT.
 * `mcp-warden [options] -- <command> [args...]` serves one stdio MCP server through the gateway.
 */

import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load.js';
import { isWardenError } from '../errors.js';
import { OPTION_SPECS, type OptionSpec } from '../config/options.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { printNewKey } from './keygen.js';


function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Adds every option of {@link OPTION_SPECS} to `command`, with its environment variable in the help. */
export function addServeOptions(command: Command): Command {
  for (const spec of OPTION_SPECS as readonly OptionSpec[]) {
    if (spec.flag === undefined) continue;
    const description = spec.env === undefined ? spec.description : `${spec.description} (env ${spec.env})`;
    if (spec.repeatable === true) command.option(spec.flag, description, collect);
    else command.option(spec.flag, description);
  }
  command.option('--config <file>', 'JSON config file (env MCP_CONFIG)');
  command.option('--generate-key', 'print a new API key and exit (same as `mcp-warden keygen`)');
  return command;
}

/** Examples shown by `--help`: keys travel in the environment or a keys file, never in argv. */
export const SERVE_EXAMPLES = [
  'Examples (keys go in the environment or a keys file: argv shows in `ps`, shell history and CI logs):',
  '  mcp-warden                                         loopback; prints a one-time key',
  '  export MCP_API_KEYS="$(mcp-warden keygen)"         a key of your own (keep it), then',
  '  mcp-warden --env-keys --port 9000                  serve it; refuses to start if unset',
  '  mcp-warden keys create --keys-file k.json --name ci  store a key hashed (mode 0600)',
  '  mcp-warden --keys-file k.json                      serve the keys file (hot-reloaded)',
  '  mcp-warden --generate-key                          print a new key and exit',
  '  mcp-warden --env-keys -- npx -y @modelcontextprotocol/server-everything',
  '                                                     secure a stdio MCP server (the gateway, README "Gateway")',
].join('\n');

/**
 * The server options as a help section for the top-level `mcp-warden --help`: `serve` is the
 * default command, so its options are the ones a newcomer needs first.
 */
export function serveOptionsHelp(serve: Command): string {
  const help = serve.helpInformation();
  const options = help.slice(help.indexOf('Options:') + 'Options:'.length).replace(/^ {2}-h, --help[^\n]*\n(?: {20,}[^\n]*\n)*/m, '');
  return `\nServer options (mcp-warden [serve] [options]):${options.trimEnd()}\n\n${SERVE_EXAMPLES}\n`;
}

/** The flags the user actually gave (commander fills in defaults for --no-* options). */
function givenFlags(command: Command): Record<string, unknown> {
  const options = command.opts<Record<string, unknown>>();
  const flags: Record<string, unknown> = {};
  for (const spec of OPTION_SPECS as readonly OptionSpec[]) {
    // Commander names values after the flag (--api-key → apiKey), not after our option key.
    const attribute = command.options.find((option) => option.flags === spec.flag)?.attributeName();
    if (attribute !== undefined && command.getOptionValueSource(attribute) === 'cli') flags[spec.key] = options[attribute];
  }
  return flags;
}

function oneTimeKeyBanner(key: string, url: string): string {
  const endpoint = new URL('/mcp', url).href;
  const clientConfig = JSON.stringify({ mcpServers: { warden: { type: 'http', url: endpoint, headers: { Authorization: `Bearer ${key}` } } } }, null, 2);
  return [
    '',
    'mcp-warden: no API key configured, so a one-time key was generated for this run.',
    'It is not stored anywhere and will not be shown again:',
    '',
    `  ${key}`,
    '',
    'MCP client configuration (paste into your client):',
    clientConfig,
    '',
    'To use your own keys: MCP_API_KEYS=$(mcp-warden keygen) mcp-warden --env-keys',
    '',
  ].join('\n');
}

export async function runServe(command: Command): Promise<void> {
  const options = command.opts<{ generateKey?: boolean; config?: string }>();
  if (options.generateKey === true) {
    printNewKey();
    return;
  }
  const upstreamCommand = command.args.length > 0 ? command.args : undefined;
  if (upstreamCommand !== undefined && !process.argv.includes('--')) {
    // Without `--` a mistyped subcommand would be spawned as an upstream server.
    process.stderr.write(`mcp-warden: unknown command or argument "${upstreamCommand[0] ?? ''}"; to front a stdio MCP server give it after "--": mcp-warden [options] -- <command> [args...]\n`);
    process.exit(EXIT_USAGE);
  }
  let config;
  try {
    config = loadConfig({ flags: givenFlags(command), env: process.env, configFile: options.config, ...(upstreamCommand === undefined ? {} : { upstreamCommand }) });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`mcp-warden: ${error.message}\n`);
      process.exit(EXIT_USAGE);
    }
    throw error;
  }

  // Loaded only when serving, so `keygen` and `--help` start instantly.
  const { createServer } = await import('../server.js');
  let server;
  try {
    server = await createServer({ config });
  } catch (error) {
    // An unreadable keys file or audit log at start is a configuration problem: exit 2, no stack.
    if (isWardenError(error) && error.code === 'WARDEN_ERR_CONFIG') {
      process.stderr.write(`mcp-warden: ${error.message}\n`);
      process.exit(EXIT_USAGE);
    }
    throw error;
  }
  let url: string;
  try {
    url = await server.start();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const reason = code === 'EADDRINUSE' ? `port ${config.port} is already in use` : code === 'EACCES' ? `no permission to bind port ${config.port}` : 'the server could not start';
    process.stderr.write(`mcp-warden: ${reason} (${config.host}:${config.port})\n`);
    server.logger.flush();
    process.exit(EXIT_FAILED);
  }
  if (server.generatedKey !== undefined) process.stderr.write(oneTimeKeyBanner(server.generatedKey, url));

  let signals = 0;
  const shutdown = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`mcp-warden: second ${signal}, exiting now\n`);
      process.exit(EXIT_FAILED);
    }
    server.logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(EXIT_OK),
      (error: unknown) => {
        server.logger.error({ err: error }, 'shutdown failed');
        process.exit(EXIT_FAILED);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // Nothing that escapes a handler (a store callback, a library's event) may end the process
  // silently. A stray rejection is logged and counted, and serving goes on; an uncaught
  // exception leaves the process in an unknown state: logged, counted, then a graceful stop
  // with exit code 1 so the supervisor restarts it.
  process.on('unhandledRejection', (reason) => server.processError('unhandled_rejection', reason));
  process.on('uncaughtException', (error) => {
    server.processError('uncaught_exception', error);
    server.stop().finally(() => process.exit(EXIT_FAILED));
  });
}

export function registerServe(program: Command): Command {
  const serve = program
    .command('serve', { isDefault: true })
    .description('serve MCP over Streamable HTTP with authentication, rate limiting and logging (default command)')
    .argument('[command...]', 'after "--": a stdio MCP server to serve through the gateway (mcp-warden [options] -- <command> [args...])');
  addServeOptions(serve);
  serve.addHelpText('after', `\n${SERVE_EXAMPLES}`);
  serve.action(async (_upstream: string[], _options: unknown, command: Command) => runServe(command));
  return serve;
}
