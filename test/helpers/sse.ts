/**
 * Reads a Server-Sent Events response incrementally, so tests can read some events, drop the
 * connection, and resume with Last-Event-ID. Parsing is the transport's own reader
 * (`src/mcp/transport/sse-parse.ts`), shared with `check` and the benchmark.
 */

import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { parseSseEvents } from '../../src/mcp/transport/sse-parse.js';
import { mcpHeaders } from './http.js';
import { openSession, type RunningWarden } from './warden.js';

export interface SseEvent {
  readonly id: string | undefined;
  readonly data: string;
  readonly retry: number | undefined;
}

export interface SseConnection {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  /** Events received so far. */
  readonly events: SseEvent[];
  /** Resolves once at least `count` events arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<SseEvent[]>;
  /** Resolves when the server ends the stream. */
  ended(timeoutMs?: number): Promise<void>;
  /** Drops the connection (as a client that lost its network would). */
  close(): void;
}

export function openSse(url: string, options: { method?: string; headers: Record<string, string>; body?: string }): Promise<SseConnection> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    let req: ClientRequest;
    const events: SseEvent[] = [];
    const waiters: Array<() => void> = [];
    let finished = false;
    const notify = (): void => {
      for (const waiter of waiters.splice(0)) waiter();
    };
    req = httpRequest(
      { host: target.hostname, port: target.port, path: target.pathname, method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const parsed = parseSseEvents(buffer + chunk);
          buffer = parsed.rest;
          for (const event of parsed.events) {
            if (event.data !== undefined || event.retry !== undefined) events.push({ id: event.id, data: event.data ?? '', retry: event.retry });
          }
          notify();
        });
        res.on('end', () => {
          finished = true;
          notify();
        });
        res.on('error', () => undefined);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          events,
          waitFor(count, timeoutMs = 3000) {
            return new Promise((done, fail) => {
              const timer = setTimeout(() => fail(new Error(`only ${events.length} of ${count} events after ${timeoutMs} ms`)), timeoutMs);
              const check = (): void => {
                if (events.length >= count) {
                  clearTimeout(timer);
                  done(events);
                } else if (finished) {
                  clearTimeout(timer);
                  fail(new Error(`stream ended after ${events.length} of ${count} events`));
                } else waiters.push(check);
              };
              check();
            });
          },
          ended(timeoutMs = 3000) {
            return new Promise((done, fail) => {
              const timer = setTimeout(() => fail(new Error('stream did not end')), timeoutMs);
              const check = (): void => {
                if (finished) {
                  clearTimeout(timer);
                  done();
                } else waiters.push(check);
              };
              check();
            });
          },
          close() {
            req.destroy();
          },
        });
      },
    );
    req.on('error', (error) => {
      if (!finished) reject(error);
    });
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/**
 * Opens a session on `warden` and calls the test servers' `count {n}` tool (progress token `p`)
 * with request id `id` on a POST SSE stream; returns the stream, the session and its headers
 * (to resume the stream or send more in the session).
 */
export async function countStream(warden: RunningWarden, options: { n: number; id: string; key?: string }): Promise<{ stream: SseConnection; headers: Record<string, string>; session: { sessionId: string; version: string } }> {
  const key = options.key ?? warden.key;
  const session = await openSession(warden, undefined, key);
  const headers = mcpHeaders(key, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version });
  const stream = await openSse(warden.mcpUrl, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: options.id, method: 'tools/call', params: { name: 'count', arguments: { n: options.n }, _meta: { progressToken: 'p' } } }),
  });
  return { stream, headers, session };
}
