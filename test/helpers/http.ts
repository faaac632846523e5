/**
 * Raw HTTP for tests: node:http rather than fetch, so tests can send any Host, Origin or
 * malformed header exactly as an attacker would.
 */

import { request as httpRequest } from 'node:http';
import { sseData } from '../../src/mcp/transport/sse-parse.js';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json<T = unknown>(): T;
}

export interface RawRequest {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** Abort reading after this many ms (SSE streams). */
  readonly timeoutMs?: number;
}

export function send(url: string, options: RawRequest = {}): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: <T>() => JSON.parse(text) as T,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.timeoutMs !== undefined) req.setTimeout(options.timeoutMs, () => req.destroy(new Error('timeout')));
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

export const MCP_ACCEPT = 'application/json, text/event-stream';

/** Headers of an authenticated JSON POST to /mcp. */
export function mcpHeaders(key: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: MCP_ACCEPT, ...extra };
}

export function initializeBody(id: number | string = 1, protocolVersion = '2025-11-25'): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 'test', version: '1.0.0' } },
  });
}

/** Parses the `data:` payloads of an SSE body (a body cut after its last event counts as ended). */
export function sseMessages(text: string): unknown[] {
  return sseData(`${text}\n\n`)
    .filter((data) => data.length > 0)
    .map((data) => JSON.parse(data) as unknown);
}

/** A server a test talks to: a `RunningWarden`, a CLI replica (`ServedCli`), or its base URL. */
export type Target = { readonly url: string } | string;

/** GET `path` on `target` with `Authorization: Bearer <key>` and any `headers` besides. */
export function getWithKey(target: Target, path: string, key: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const base = typeof target === 'string' ? target : target.url;
  return send(`${base}${path}`, { headers: { authorization: `Bearer ${key}`, ...headers } });
}

/**
 * GET /api/status as `key` (operator data: needs an operator key; others get 403).
 *
 * @example
 * expect((await apiStatus(warden, warden.key, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(200);
 */
export function apiStatus(target: Target, key: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return getWithKey(target, '/api/status', key, headers);
}

/** GET /api/tools as `key`: the authenticated call any key may make. */
export function apiTools(target: Target, key: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return getWithKey(target, '/api/tools', key, headers);
}

/** The 2026-07-28 `_meta` envelope every modern request carries. */
export function modernMeta(capabilities: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': capabilities,
    'io.modelcontextprotocol/clientInfo': { name: 'test', version: '1.0.0' },
  };
}

/** A 2026-07-28 request body: `params` plus the `_meta` envelope. */
export function modernBody(id: number | string, method: string, params: Record<string, unknown> = {}, capabilities: Record<string, unknown> = {}): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: modernMeta(capabilities) } });
}

/**
 * Headers of an authenticated 2026-07-28 POST: the version, `Mcp-Method`, and `Mcp-Name` when
 * given (tools/call, prompts/get, resources/read).
 */
export function modernHeaders(key: string | undefined, method: string, name?: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    'content-type': 'application/json',
    accept: MCP_ACCEPT,
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': method,
    ...(name === undefined ? {} : { 'mcp-name': name }),
    ...extra,
  };
}
