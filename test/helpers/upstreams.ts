/**
 * Real MCP servers from npm (`@modelcontextprotocol/server-everything`, `-filesystem`, `-memory`,
 * devDependencies) for the gateway tests: their bin resolved from node_modules and run with
 * `process.execPath` (no npx, no network); server-everything's HTTP modes started on a free
 * loopback port; a logger whose lines a test can read; process checks.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import { parseGatewayConfig, type RemoteUpstreamConfig, type StdioUpstreamConfig } from '../../src/gateway/config.js';

export type ServerPackage = 'server-everything' | 'server-filesystem' | 'server-memory';

/** Absolute path of a server package's bin script. */
export function serverBin(pkg: ServerPackage): string {
  const root = new URL(`../../node_modules/@modelcontextprotocol/${pkg}/`, import.meta.url);
  const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { bin: Record<string, string> };
  return fileURLToPath(new URL(Object.values(manifest.bin)[0] as string, root));
}

export const FIXTURE_CHILD = fileURLToPath(new URL('../gateway/fixtures/stdio-child.mjs', import.meta.url));
const LOOPBACK_PRELOAD = fileURLToPath(new URL('../gateway/fixtures/loopback-listen.cjs', import.meta.url));

/** A stdio upstream config for `pkg`, through the real parser; `extra` adds per-upstream keys. */
export function stdioUpstream(name: string, pkg: ServerPackage, args: string[] = [], extra: Record<string, unknown> = {}): StdioUpstreamConfig {
  const config = parseGatewayConfig({ mcpServers: { [name]: { command: process.execPath, args: [serverBin(pkg), ...args], ...extra } } }, {});
  return config?.upstreams[0] as StdioUpstreamConfig;
}

/** A remote upstream config through the real parser. */
export function remoteUpstream(name: string, url: string, extra: Record<string, unknown> = {}, env: Record<string, string> = {}): RemoteUpstreamConfig {
  const config = parseGatewayConfig({ mcpServers: { [name]: { url, ...extra } } }, env);
  return config?.upstreams[0] as RemoteUpstreamConfig;
}

/** A pino logger whose entries land in `lines` (parsed). */
export function memoryLogger(level = 'info'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

/** True while a process (or, with a negative pid, a process group) exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface HttpEverything {
  /** `http://127.0.0.1:<port>/mcp` (streamableHttp) or `.../sse` (sse). */
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** server-everything in its `streamableHttp` or `sse` mode on a free loopback port (PORT=0, port read from stderr). */
export async function startHttpEverything(mode: 'streamableHttp' | 'sse'): Promise<HttpEverything> {
  const child = spawn(process.execPath, ['--require', LOOPBACK_PRELOAD, serverBin('server-everything'), mode], {
    env: { PATH: process.env['PATH'] ?? '', PORT: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`server-everything ${mode} did not listen`)), 15_000);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      text += chunk;
      const match = /WARDEN_TEST_LISTENING (\d+)/.exec(text);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', () => reject(new Error(`server-everything ${mode} exited: ${text.slice(0, 500)}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/${mode === 'sse' ? 'sse' : 'mcp'}`,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
