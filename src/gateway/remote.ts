/**
 * @module gateway/remote
 * What a remote upstream's SDK transport is built with: a `fetch` of its own (an undici `Agent`
 * per upstream with TLS verification unless the test-only `allowInsecureTls`, connect and header
 * timeouts, and a response size cap that counts bytes as they arrive), and an OAuth 2.0 client
 * credentials token source with caching (RFC 6749 §4.4).
 *
 * The size cap is enforced per message, in the byte stream, before anything is parsed:
 * - a JSON response to a POSTed request is read up to `maxResultBytes`; beyond it the response is
 *   replaced by a JSON-RPC error for the same request id, marked {@link RESULT_TOO_LARGE};
 * - an SSE response to a POSTed request: an event beyond the cap ends the stream with that error
 *   event for the request id;
 * - any other SSE stream (the GET stream, the legacy HTTP+SSE stream): an event beyond the cap
 *   errors the stream (the connection then counts as down and is reopened with backoff).
 *
 * Our clients' credentials never reach this module: the headers sent upstream are the
 * upstream's configured `headers` and the token of its own `oauth` only (the spec's
 * no-token-passthrough rule).
 *
 * Hand-written token source because the SDK's `ClientCredentialsProvider` runs the full
 * discovery flow (protected-resource metadata, authorization server metadata) and our config
 * names the token endpoint directly, as the operators of such upstreams hand it out.
 */

import { Agent, fetch as undiciFetch } from 'undici';
import type { AuthProvider, FetchLike, JSONRPCMessage } from '@modelcontextprotocol/client';
import { RPC } from '../wire-codes.js';
import { RESULT_TOO_LARGE } from './child-transport.js';
import type { RemoteUpstreamConfig, UpstreamOAuthConfig } from './config.js';
import { realTimers, type Timers } from './timers.js';

/** A `fetch` for one upstream and the connection pool behind it. */
export interface UpstreamFetch {
  readonly fetch: FetchLike;
  /** Closes the upstream's connection pool. */
  close(): Promise<void>;
}

type RequestId = string | number;

function requestIdOf(init: RequestInit | undefined): RequestId | undefined {
  if (init?.method !== 'POST' || typeof init.body !== 'string') return undefined;
  try {
    const message = JSON.parse(init.body) as { id?: unknown; method?: unknown };
    if (typeof message.method === 'string' && (typeof message.id === 'string' || typeof message.id === 'number')) return message.id;
  } catch {
    // Not ours to judge: the upstream answers it.
  }
  return undefined;
}

function tooLarge(id: RequestId, bytes: number): string {
  const message = { jsonrpc: '2.0', id, error: { code: RPC.SERVER_ERROR, message: 'Result too large', data: { warden: RESULT_TOO_LARGE, bytes } } } satisfies JSONRPCMessage;
  return JSON.stringify(message);
}

async function capJson(response: Response, maxBytes: number, id: RequestId | undefined, name: string): Promise<Response> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel().catch(() => undefined);
      if (id === undefined) throw new Error(`upstream "${name}": a response exceeds maxResultBytes (${maxBytes})`);
      return new Response(tooLarge(id, bytes), { status: response.status, headers: { 'content-type': 'application/json' } });
    }
    chunks.push(value);
  }
  return new Response(Buffer.concat(chunks, bytes), { status: response.status, statusText: response.statusText, headers: response.headers });
}

function capSse(response: Response, maxBytes: number, id: RequestId | undefined, name: string): Response {
  let eventBytes = 0;
  let newline = false;
  const encoder = new TextEncoder();
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (let index = 0; index < chunk.length; index++) {
        const byte = chunk[index];
        if (byte === 0x0a) {
          // A blank line ends an event (WHATWG HTML § server-sent events); `\r` is not counted.
          if (newline) eventBytes = 0;
          newline = true;
        } else if (byte !== 0x0d) {
          newline = false;
          if (++eventBytes > maxBytes) {
            if (id === undefined) {
              controller.error(new Error(`upstream "${name}": an event exceeds maxResultBytes (${maxBytes})`));
            } else {
              controller.enqueue(chunk.subarray(0, index));
              controller.enqueue(encoder.encode(`\n\nevent: message\ndata: ${tooLarge(id, eventBytes)}\n\n`));
              controller.terminate();
            }
            return;
          }
        }
      }
      controller.enqueue(chunk);
    },
  });
  const body = (response.body as ReadableStream<Uint8Array>).pipeThrough(counter);
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/**
 * The `fetch` of one remote upstream.
 *
 * @example
 * const { fetch, close } = upstreamFetch(config, logger.warn);
 * new StreamableHTTPClientTransport(new URL(config.url), { fetch });
 */
export function upstreamFetch(config: Pick<RemoteUpstreamConfig, 'name' | 'allowInsecureTls' | 'spawnTimeoutMs' | 'callTimeoutMs' | 'maxResultBytes'>): UpstreamFetch {
  const agent = new Agent({
    connect: { rejectUnauthorized: !config.allowInsecureTls, timeout: config.spawnTimeoutMs },
    headersTimeout: config.callTimeoutMs,
    // Streams (the GET stream, legacy SSE) may stay quiet for long; calls have their own timeout.
    bodyTimeout: 0,
  });
  const fetch: FetchLike = async (url, init) => {
    const response = (await undiciFetch(url, { ...(init as object), dispatcher: agent } as Parameters<typeof undiciFetch>[1])) as unknown as Response;
    if (response.body === null) return response;
    const type = response.headers.get('content-type') ?? '';
    const id = requestIdOf(init);
    if (type.includes('text/event-stream')) return capSse(response, config.maxResultBytes, id, config.name);
    return capJson(response, config.maxResultBytes, id, config.name);
  };
  return { fetch, close: () => agent.close() };
}

/** Refresh this long before a token's `expires_in` runs out. */
const EXPIRY_MARGIN_MS = 30_000;
/** Cached this long when the token endpoint names no lifetime (a 401 drops it sooner). */
const DEFAULT_LIFETIME_MS = 300_000;
const MAX_TOKEN_RESPONSE = 64 * 1024;

/**
 * OAuth 2.0 client credentials for one upstream, as the SDK's `AuthProvider`: `token()` returns a
 * cached access token (fetched once at a time, refreshed before expiry); a 401 from the upstream
 * (`onUnauthorized`) drops it so the retry fetches a new one. The client authenticates with
 * HTTP Basic (RFC 6749 §2.3.1). Errors name the upstream and the HTTP status, never the body.
 *
 * @example
 * new StreamableHTTPClientTransport(url, { fetch, authProvider: new ClientCredentialsTokens('api', oauth, fetch) });
 */
export class ClientCredentialsTokens implements AuthProvider {
  readonly #name: string;
  readonly #oauth: UpstreamOAuthConfig;
  readonly #fetch: FetchLike;
  readonly #timers: Timers;
  #cached: { token: string; expiresAt: number } | undefined;
  #inflight: Promise<string> | undefined;

  constructor(name: string, oauth: UpstreamOAuthConfig, fetch: FetchLike, timers: Timers = realTimers) {
    this.#name = name;
    this.#oauth = oauth;
    this.#fetch = fetch;
    this.#timers = timers;
  }

  async token(): Promise<string> {
    if (this.#cached !== undefined && this.#timers.now() < this.#cached.expiresAt) return this.#cached.token;
    this.#inflight ??= this.#request().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async onUnauthorized(): Promise<void> {
    this.#cached = undefined;
  }

  async #request(): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.#oauth.scope !== undefined) form.set('scope', this.#oauth.scope);
    const basic = Buffer.from(`${encodeURIComponent(this.#oauth.clientId)}:${encodeURIComponent(this.#oauth.clientSecret)}`).toString('base64');
    const started = this.#timers.now();
    const response = await this.#fetch(this.#oauth.tokenUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      redirect: 'error',
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`upstream "${this.#name}": the token endpoint answered HTTP ${response.status}`);
    if (text.length > MAX_TOKEN_RESPONSE) throw new Error(`upstream "${this.#name}": the token response is too large`);
    let body: { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`upstream "${this.#name}": the token response is not JSON`);
    }
    if (typeof body.access_token !== 'string' || body.access_token === '') throw new Error(`upstream "${this.#name}": the token response has no access_token`);
    if (typeof body.token_type === 'string' && body.token_type.toLowerCase() !== 'bearer') throw new Error(`upstream "${this.#name}": unsupported token_type`);
    const lifetime = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : DEFAULT_LIFETIME_MS;
    this.#cached = { token: body.access_token, expiresAt: started + Math.max(lifetime - EXPIRY_MARGIN_MS, lifetime / 2) };
    return body.access_token;
  }
}
