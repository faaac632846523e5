/**
 * Starts a real mcp-warden server on an ephemeral loopback port for a test, with its log
 * lines captured so tests can assert what is (and is not) logged.
 */

import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createServer, type WardenServer, type WardenServerOptions } from '../../src/server.js';
import { send, mcpHeaders, initializeBody } from './http.js';

export const TEST_KEY = 'test-key-0123456789abcdefghijklmnopqrstuv';
export const OTHER_KEY = 'other-key-0123456789abcdefghijklmnopqrstu';

export interface RunningWarden {
  readonly url: string;
  readonly mcpUrl: string;
  readonly key: string;
  readonly server: WardenServer;
  /** Every log line written so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  /** Raw log text (to search for secrets). */
  logText(): string;
  /** Stops the server; calling it again waits for the same stop. */
  stop(): Promise<void>;
}

/** What a test server is started with: the server's options, a log level, never a logger (the fixture captures the log). */
export type WardenOptions = Omit<WardenServerOptions, 'logger'> & { logLevel?: string };

export async function startWarden(options: WardenOptions = {}): Promise<RunningWarden> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line.length > 0));
      callback();
    },
  });
  const { logLevel, ...rest } = options;
  const logger = pino({ level: logLevel ?? 'info', redact: ['authorization'] }, sink);
  const server = await createServer({
    ...rest,
    options: { apiKeys: [TEST_KEY], port: 0, host: '127.0.0.1', ...rest.options },
    logger,
  });
  const url = await server.start();
  let stopped: Promise<void> | undefined;
  return {
    url,
    mcpUrl: `${url}/mcp`,
    key: server.config.apiKeys[0] as string,
    server,
    logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    logText: () => lines.join('\n'),
    stop: () => (stopped ??= server.stop()),
  };
}

/**
 * {@link startWarden} for one test: the server is stopped when the test finishes, passed or
 * failed (vitest `onTestFinished`), so a failing assertion never leaves it running. Call it
 * inside a test; for a server shared by a file, use `startWarden` in `beforeAll` and stop it
 * in `afterAll`.
 *
 * @example
 * it('serves', async () => {
 *   const warden = await useWarden({ options: { rateLimit: 5 } });
 *   expect(await stillServing(warden)).toBe(true);
 * });
 */
export async function useWarden(options: WardenOptions = {}): Promise<RunningWarden> {
  const warden = await startWarden(options);
  onTestFinished(() => warden.stop());
  return warden;
}

/**
 * One server for every test in the calling `describe` block (or file): started in `beforeAll`,
 * stopped in `afterAll` whatever the tests did. The returned object reads through to the
 * started server, so use it inside tests and hooks. Pass a function for options that exist only
 * once an earlier `beforeAll` ran (a Redis URL).
 *
 * @example
 * describe('with a roomy limit', () => {
 *   const warden = useSharedWarden({ options: { rateLimit: 1000 } });
 *   it('serves', async () => expect(await stillServing(warden)).toBe(true));
 * });
 */
export function useSharedWarden(options: WardenOptions | (() => WardenOptions) = {}): RunningWarden {
  let current: RunningWarden | undefined;
  beforeAll(async () => {
    current = await startWarden(typeof options === 'function' ? options() : options);
  });
  afterAll(async () => {
    await current?.stop();
  });
  const started = (): RunningWarden => {
    if (current === undefined) throw new Error('useSharedWarden(): use the server inside a test or hook');
    return current;
  };
  return {
    get url() {
      return started().url;
    },
    get mcpUrl() {
      return started().mcpUrl;
    },
    get key() {
      return started().key;
    },
    get server() {
      return started().server;
    },
    logs: () => started().logs(),
    logText: () => started().logText(),
    stop: () => started().stop(),
  };
}

/** An official SDK client connected to the server with `key`. */
export async function connectClient(warden: RunningWarden, key = warden.key): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(warden.mcpUrl), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  const client = new Client({ name: 'warden-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** Opens a session with a raw initialize; returns its id and negotiated version. */
export async function openSession(warden: RunningWarden, protocolVersion = '2025-11-25', key = warden.key): Promise<{ sessionId: string; version: string }> {
  const response = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(key), body: initializeBody(1, protocolVersion) });
  if (response.status !== 200) throw new Error(`initialize failed: ${response.status} ${response.text}`);
  const sessionId = response.headers['mcp-session-id'];
  if (typeof sessionId !== 'string') throw new Error('no session id');
  const version = response.json<{ result: { protocolVersion: string } }>().result.protocolVersion;
  await send(warden.mcpUrl, {
    method: 'POST',
    headers: mcpHeaders(key, { 'mcp-session-id': sessionId, 'mcp-protocol-version': version }),
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  return { sessionId, version };
}

/** True when the server still answers a plain request (used after every bad input). */
export async function stillServing(warden: RunningWarden): Promise<boolean> {
  const health = await send(`${warden.url}/health`);
  if (health.status !== 200) return false;
  const session = await openSession(warden);
  const response = await send(warden.mcpUrl, {
    method: 'POST',
    headers: mcpHeaders(warden.key, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version }),
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'calculate', arguments: { expression: '6*7' } } }),
  });
  return response.status === 200 && response.text.includes('"42"');
}
