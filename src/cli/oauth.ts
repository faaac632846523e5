/**
 * @module cli/oauth
 * `mcp-warden oauth code --key-id <id> --server <url> [--ttl 15m]`: asks a running mcp-warden
 * (started with `--oauth-issuer`, key sign-in) for a one-time sign-in code for an API key, and
 * prints it once on stdout. The user types that code on the consent page instead of the key:
 * their OAuth client gets that key's scopes and limits, and loses them with the key.
 *
 * The operator key is read from `MCP_API_KEY` only, never from argv (arguments show in `ps`
 * and shell history). It is sent only over https, or plain http to a loopback address. The
 * server makes and stores the code (as a digest, in Redis when replicas share one), so the code
 * works on every replica. Exit 0 with the code, 1 when the server refused or could not be
 * reached, 2 on bad usage.
 *
 * @example
 * MCP_API_KEY="$OPERATOR_KEY" mcp-warden oauth code --key-id key_3f9a1c2b7d4e --server https://mcp.example.com --ttl 30m
 */

import type { Command } from 'commander';
import { parseDuration } from '../security/keys-file.js';
import { isLoopbackHost } from '../security/hosts.js';
import { SIGN_IN_CODE_TTL } from '../security/oauth/sign-in-codes.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './exit-codes.js';

/** Where the command writes and what it reads; injectable for tests. */
export interface OAuthCodeIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface OAuthCodeOptions {
  readonly keyId: string;
  readonly server: string;
  readonly ttl?: string;
}

const TIMEOUT_MS = 10_000;

class UsageError extends Error {}

function parseServer(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError('--server expects the server URL, e.g. https://mcp.example.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError('--server must be an https URL');
  // The operator key must not cross a network in clear text.
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname.replace(/^\[|\]$/g, ''))) throw new UsageError('--server must be https (plain http only to a loopback address): the operator key travels with the request');
  return url;
}

function parseTtl(text: string | undefined): number {
  if (text === undefined) return SIGN_IN_CODE_TTL.default;
  const ms = parseDuration(text);
  if (ms === undefined || ms % 1000 !== 0 || ms / 1000 < SIGN_IN_CODE_TTL.min || ms / 1000 > SIGN_IN_CODE_TTL.max) {
    throw new UsageError(`--ttl expects a duration from 1m to 24h, e.g. 15m (default ${SIGN_IN_CODE_TTL.default / 60}m)`);
  }
  return ms / 1000;
}

/** What the server's refusal means for the operator (its body is our own fixed JSON). */
function explain(status: number, body: { error?: unknown; message?: unknown }): string {
  if (status === 401) return 'the server did not accept the key in MCP_API_KEY';
  if (status === 403 && body.error === 'insufficient_scope') return 'the key in MCP_API_KEY is not an operator key';
  if (status === 403) return `the server refused the request (${String(body.error)})`;
  if (status === 404) return 'this server does not make sign-in codes (it needs --oauth-issuer, with key sign-in rather than an upstream OpenID Connect provider)';
  if (status === 400 && typeof body.message === 'string') return body.message.slice(0, 200).replace(/[^\x20-\x7e]/g, '');
  return `the server answered ${status}`;
}

/**
 * Runs the command; returns the exit code.
 *
 * @example
 * const code = await runOAuthCode({ keyId: 'key_3f9a1c2b7d4e', server: 'http://127.0.0.1:8443' }, { stdout, stderr, env: { MCP_API_KEY: key } });
 */
export async function runOAuthCode(options: OAuthCodeOptions, io: OAuthCodeIo): Promise<number> {
  let server: URL;
  let ttlSeconds: number;
  const key = io.env['MCP_API_KEY'];
  try {
    if (key === undefined || key === '') throw new UsageError('set MCP_API_KEY to an operator API key (it is read from the environment only)');
    server = parseServer(options.server);
    ttlSeconds = parseTtl(options.ttl);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`mcp-warden oauth code: ${error.message}\n`);
    return EXIT_USAGE;
  }
  let response: Response;
  try {
    response = await fetch(new URL('/api/oauth/sign-in-codes', server.origin), {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ keyId: options.keyId, ttlSeconds }),
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    io.stderr.write(`mcp-warden oauth code: cannot reach ${server.origin}\n`);
    return EXIT_FAILED;
  }
  const text = (await response.text()).slice(0, 4096);
  let body: { code?: unknown; expiresAt?: unknown; error?: unknown; message?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Not our server's JSON: the status says enough.
  }
  if (response.status !== 201 || typeof body.code !== 'string') {
    io.stderr.write(`mcp-warden oauth code: ${explain(response.status, body)}\n`);
    return EXIT_FAILED;
  }
  io.stdout.write(`${body.code}\n`);
  io.stderr.write(`one-time sign-in code for key ${options.keyId}: single use, valid until ${String(body.expiresAt)}. Type it on the consent page instead of the key; it is shown only this once.\n`);
  return EXIT_OK;
}

/** Adds `mcp-warden oauth code` to `program`. */
export function registerOAuth(program: Command, io: OAuthCodeIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }): void {
  const oauth = program.command('oauth').description("work with mcp-warden's own OAuth authorization server (--oauth-issuer)");
  oauth
    .command('code')
    .description('make a one-time sign-in code for an API key on a running server (operator key from MCP_API_KEY); prints the code once')
    .requiredOption('--key-id <id>', 'the id of the API key the code signs in as (mcp-warden keys list)')
    .requiredOption('--server <url>', 'the running server, e.g. https://mcp.example.com (its --oauth-issuer)')
    .option('--ttl <duration>', `how long the code is valid, 1m to 24h (default ${SIGN_IN_CODE_TTL.default / 60}m)`)
    .action(async (options: OAuthCodeOptions) => {
      process.exitCode = await runOAuthCode(options, io);
    });
}
