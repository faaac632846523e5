/**
 * A client's own web server for Client ID Metadata Document tests: serves JSON documents (and
 * misbehaving answers) on loopback, over https with the test-only self-signed certificate for
 * 127.0.0.1 (the SDK client insists on an https client id) or over plain http. Counts the
 * requests per path, holds "slow" requests open, and stops when the test ends.
 */

import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

const FIXTURES = new URL('../gateway/fixtures/', import.meta.url);
/** The test-only certificate (CN and SAN 127.0.0.1); trust it with `--oauth-cimd-ca-file`. */
export const TEST_CA_FILE = new URL('test-only-self-signed.crt', FIXTURES).pathname;

export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export interface DocumentServer {
  /** `https://127.0.0.1:<port>` (or http). */
  readonly origin: string;
  /** Serves `handler` at `path`. */
  route(path: string, handler: Handler): string;
  /** Serves a metadata document at `path` whose client_id is its own URL; returns that URL. */
  document(path: string, fields?: Record<string, unknown>, headers?: Record<string, string>): string;
  /** Requests seen per path. */
  hits(path: string): number;
}

/** The metadata a well-behaved client publishes at `url`. */
export function metadataFor(url: string, redirectUri = 'http://127.0.0.1:43119/callback'): Record<string, unknown> {
  return { client_id: url, client_name: 'CIMD Test Client', redirect_uris: [redirectUri], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
}

export function json(body: unknown, headers: Record<string, string> = {}): Handler {
  return (_request, response) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers }).end(text);
  };
}

export async function useDocumentServer(options: { readonly tls?: boolean } = {}): Promise<DocumentServer> {
  const routes = new Map<string, Handler>();
  const counts = new Map<string, number>();
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const handler = routes.get(path);
    if (handler === undefined) response.writeHead(404).end();
    else handler(request, response);
  };
  const tls = options.tls ?? true;
  const server: Server = tls
    ? createHttpsServer({ key: readFileSync(new URL('test-only-self-signed.key', FIXTURES)), cert: readFileSync(new URL('test-only-self-signed.crt', FIXTURES)) }, handle)
    : createHttpServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const origin = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    route(path, handler) {
      routes.set(path, handler);
      return `${origin}${path}`;
    },
    document(path, fields = {}, headers = {}) {
      const url = `${origin}${path}`;
      routes.set(path, json({ ...metadataFor(url), ...fields }, headers));
      return url;
    },
    hits: (path) => counts.get(path) ?? 0,
  };
}
