/**
 * `mcp-remote` (the npm stdio ↔ remote proxy that does OAuth itself) as the OAuth-only client in
 * tests, spawned by the official SDK's stdio client transport exactly as a desktop MCP client
 * spawns it (`npx mcp-remote <url>`), with everything it touches kept private to the test:
 * - its token and client cache (`~/.mcp-auth`, or `MCP_REMOTE_CONFIG_DIR`) and `HOME` point at a
 *   fresh temporary folder, removed when the test ends;
 * - "opening the browser": mcp-remote calls the `open` package, whose bundled `xdg-open` (with
 *   no desktop session) runs the command in `BROWSER`; that is a two-line shell script that
 *   appends the URL to a file, so the test can hand it to Chromium;
 * - its loopback callback listener gets a free port (mcp-remote's second argument).
 * The client is closed and the child process killed (by its pid) when the test finishes,
 * passed or failed.
 */

import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { onTestFinished } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { freePort } from './port.js';
import { until } from './wait.js';

const require = createRequire(import.meta.url);
/** mcp-remote's proxy entry point (its `bin`), run with this Node. */
export const MCP_REMOTE_BIN = join(dirname(require.resolve('mcp-remote/package.json')), 'dist', 'proxy.js');

export interface McpRemote {
  readonly client: Client;
  readonly transport: StdioClientTransport;
  /** The redirect URI mcp-remote registers: `http://localhost:<port>/oauth/callback`. */
  readonly redirectUri: string;
  /** Its private config folder (tokens, client registration). */
  readonly configDir: string;
  /** Resolves with the next URL mcp-remote asks the browser to open (the `n`th one, 1-based), or throws after `ms`. */
  browserUrl(n: number, ms?: number): Promise<URL>;
  /** Every URL mcp-remote asked the browser to open so far. */
  browserUrls(): URL[];
  /** What mcp-remote wrote on stderr (its log). */
  log(): string;
  /** The tokens mcp-remote saved for the server, read from its cache. */
  savedTokens(): { access_token: string; refresh_token?: string; scope?: string } | undefined;
  /** The client registration mcp-remote saved. */
  savedClient(): { client_id: string; redirect_uris: string[] } | undefined;
}

/** A file of mcp-remote's store: <config dir>/mcp-remote-v1/<hash of the server URL>_<name>. */
function readStore(configDir: string, name: string): never {
  const store = join(configDir, 'mcp-remote-v1');
  const file = existsSync(store) ? readdirSync(store).find((entry) => entry.endsWith(`_${name}`)) : undefined;
  return (file === undefined ? undefined : JSON.parse(readFileSync(join(store, file), 'utf8'))) as never;
}

/**
 * Spawns mcp-remote for `serverUrl` through the v1 SDK's `StdioClientTransport` (not started:
 * `client.connect(transport)` starts it and sends `initialize`, which mcp-remote answers once
 * its sign-in is done).
 */
export async function useMcpRemote(serverUrl: string, extraArgs: readonly string[] = []): Promise<McpRemote> {
  const home = mkdtempSync(join(tmpdir(), 'mcpw-mcp-remote-'));
  const configDir = join(home, '.mcp-auth');
  const urlsFile = join(home, 'browser-urls.txt');
  const browserScript = join(home, 'browser.sh');
  writeFileSync(browserScript, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${urlsFile}'\n`);
  chmodSync(browserScript, 0o700);
  const port = await freePort();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MCP_REMOTE_BIN, serverUrl, String(port), ...extraArgs],
    // A minimal environment: no DISPLAY or desktop session, so xdg-open falls through to BROWSER.
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, MCP_REMOTE_CONFIG_DIR: configDir, BROWSER: browserScript },
    stderr: 'pipe',
  });
  const stderr: string[] = [];
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  const client = new Client({ name: 'mcp-remote-test', version: '1.0.0' });

  const browserUrls = (): URL[] =>
    existsSync(urlsFile)
      ? readFileSync(urlsFile, 'utf8')
          .split('\n')
          .filter((line) => line.length > 0)
          .map((line) => new URL(line))
      : [];

  onTestFinished(async () => {
    const pid = transport.pid;
    await client.close().catch(() => undefined);
    if (pid !== null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(home, { recursive: true, force: true });
  });

  return {
    client,
    transport,
    redirectUri: `http://localhost:${port}/oauth/callback`,
    configDir,
    async browserUrl(n, ms = 15_000) {
      if (!(await until(() => browserUrls().length >= n, ms, 50))) {
        throw new Error(`mcp-remote opened no browser URL #${n} within ${ms} ms; its log:\n${stderr.join('')}`);
      }
      return browserUrls()[n - 1] as URL;
    },
    browserUrls,
    log: () => stderr.join(''),
    savedTokens: () => readStore(configDir, 'tokens.json'),
    savedClient: () => readStore(configDir, 'client_info.json'),
  };
}
