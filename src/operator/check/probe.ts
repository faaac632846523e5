/**
 * @module operator/check/probe
 * The audit's HTTP client: node:http/node:https directly, so every header (Host, Origin,
 * Authorization, a forged session id) is sent exactly as written, with one deadline per
 * request covering connect, headers and body. SSE answers are read until the first JSON-RPC
 * response arrives (a server may keep the stream open); bodies are capped.
 */

import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { displayUrl, ProbeError, toProbeError } from './net-errors.js';
import { isRpcResponse, parseMessages } from './rpc.js';

/** Largest body the audit reads (error pages and JSON-RPC answers are far smaller). */
const MAX_BODY_BYTES = 1024 * 1024;

export interface ProbeRequest {
  readonly url: URL;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface ProbeResponse {
  readonly url: string;
  readonly method: string;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly durationMs: number;
  /** A header's value (repeated headers joined with ", "), undefined when absent. */
  header(name: string): string | undefined;
  /** The JSON-RPC messages of the body (JSON or SSE). */
  messages(): Record<string, unknown>[];
}

export interface ProberOptions {
  readonly timeoutMs: number;
}

function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : value;
}

function isEventStream(headers: IncomingHttpHeaders): boolean {
  return headerOf(headers, 'content-type')?.toLowerCase().includes('text/event-stream') === true;
}

/**
 * Sends raw HTTP requests with a per-request deadline.
 *
 * @example
 * const http = new Prober({ timeoutMs: 5000 });
 * const response = await http.request({ url: new URL('http://127.0.0.1:8443/health') });
 * response.status; // 200
 */
export class Prober {
  readonly #timeoutMs: number;

  constructor(options: ProberOptions) {
    this.#timeoutMs = options.timeoutMs;
  }

  /** Sends one request; rejects with a {@link ProbeError} when no HTTP answer arrives in time. */
  request(options: ProbeRequest): Promise<ProbeResponse> {
    const { url } = options;
    const method = options.method ?? 'GET';
    const shown = displayUrl(url);
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const started = performance.now();

    return new Promise<ProbeResponse>((resolve, reject) => {
      let settled = false;
      const settle = (action: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        action();
      };

      const client = send({
        protocol: url.protocol,
        // node wants an IPv6 literal without its URL brackets.
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method,
        headers,
        // One connection per request: no pooled sockets outlive the audit.
        agent: false,
      });

      const timer = setTimeout(() => {
        settle(() => reject(new ProbeError('timeout', shown, `no answer within ${this.#timeoutMs} ms`)));
        client.destroy();
      }, this.#timeoutMs);

      client.on('error', (error) => settle(() => reject(toProbeError(error, shown))));
      client.on('response', (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const stream = isEventStream(response.headers);
        const done = (): void => {
          const body = Buffer.concat(chunks).toString('utf8');
          const answer: ProbeResponse = {
            url: shown,
            method,
            status: response.statusCode ?? 0,
            headers: response.headers,
            body,
            durationMs: Math.round(performance.now() - started),
            header: (name) => headerOf(response.headers, name),
            messages: () => parseMessages(headerOf(response.headers, 'content-type'), body),
          };
          settle(() => resolve(answer));
          // An SSE stream may stay open after the answer we wanted; we are done with it.
          client.destroy();
        };
        response.on('data', (chunk: Buffer) => {
          if (settled) return;
          size += chunk.length;
          chunks.push(chunk);
          if (size >= MAX_BODY_BYTES) {
            done();
            return;
          }
          if (stream && hasRpcResponse(Buffer.concat(chunks).toString('utf8'))) done();
        });
        response.on('end', done);
        response.on('error', (error) => settle(() => reject(toProbeError(error, shown))));
      });
      client.end(options.body);
    });
  }
}

/** True once a complete SSE event in `text` carries a JSON-RPC response. */
function hasRpcResponse(text: string): boolean {
  const complete = text.replace(/\r\n?/g, '\n');
  const end = complete.lastIndexOf('\n\n');
  if (end === -1) return false;
  return parseMessages('text/event-stream', complete.slice(0, end + 2)).some(isRpcResponse);
}
