/**
 * @module http/client-error
 * Requests Node's HTTP parser refuses (conflicting Content-Length and Transfer-Encoding, a
 * duplicate Content-Length, invalid header characters, oversized headers, ...) never reach
 * Fastify; Node's default answer is a bare 400. Here they are answered like every other
 * refusal: IP rules and bans (403), the per-IP rate limit (each counts; 429 beyond it), then
 * our JSON error body with our security headers and `Connection: close` (400, 431 for
 * oversized headers, 408 when the request timed out), a metric, and a log line bounded to one
 * per interval (with the count of the refusals it stands for).
 *
 * CONNECT requests never reach Fastify either: Node hands them to the server's `connect` event
 * and, with no listener, drops the socket without a word. They get the same treatment (guards,
 * rate-limit count, the same bounded log line, a metric) and 405 with `Allow`: nothing here
 * tunnels.
 *
 * The socket peer is the client unless it is a trusted proxy; then the client is unknown (the
 * headers did not parse) and the proxy is not counted, so one client's garbage cannot
 * rate-limit everyone behind it.
 */

import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ERROR_CODES, type WardenErrorCode } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { SecurityEvents } from '../observability/security-events.js';
import type { ServerStats } from '../observability/stats.js';
import type { BanList } from '../security/ban-list.js';
import { clientKey } from '../security/client-ip.js';
import type { IpVerdict } from '../security/ip-rules.js';
import type { RateLimitDecision, RateLimitStore } from '../store/types.js';
import { errorBody, publicCode } from './error-reply.js';

/** The guards a refused request meets before its answer: IP rules, bans, the per-IP rate limit. */
export interface ClientErrorGuards {
  readonly rules: ((address: string) => IpVerdict) | undefined;
  readonly bans: BanList;
  readonly store: RateLimitStore;
  readonly limit: number;
  readonly events: SecurityEvents;
  readonly trustedProxy: (address: string, hop: number) => boolean;
}

export interface ClientErrorOptions {
  /** The security headers every response carries. */
  readonly headers: Readonly<Record<string, string>>;
  /** The guards; absent when security is off (benchmark only). */
  readonly guards?: ClientErrorGuards | undefined;
  readonly logger: Logger;
  readonly stats: ServerStats;
  readonly metrics?: Metrics | undefined;
  /** At most one log line per interval (default 10 s); the others are counted into it. */
  readonly logIntervalMs?: number;
  readonly now?: () => number;
  /** How long the socket may stay half-open after the answer so the client reads it (default 1 s). */
  readonly lingerMs?: number;
}

interface Refusal {
  readonly code: WardenErrorCode;
  readonly reason: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Node's `clientError` listener: answers on the raw socket a request the HTTP parser refused. */
export type ClientErrorHandler = (error: Error & { code?: string }, socket: Socket) => void;

/** Node's `connect` listener: answers a CONNECT request (never a tunnel). */
export type ConnectHandler = (request: IncomingMessage, socket: Socket, head: Buffer) => void;

/** The two listeners for what never reaches Fastify, sharing one log, one metric and the guards. */
export interface ParserRefusals {
  readonly clientError: ClientErrorHandler;
  readonly connect: ConnectHandler;
}

/** The methods some route here answers (CONNECT's 405 names them). */
const ALLOWED_METHODS = 'GET, HEAD, POST, DELETE, OPTIONS';

/** How a request that never reached Fastify is labelled in the request metric. */
interface MetricLabels {
  readonly route: string;
  readonly method: string;
}

const UNPARSED: MetricLabels = { route: 'unparsed', method: 'unknown' };
const CONNECT: MetricLabels = { route: 'unmatched', method: 'CONNECT' };

/** Node's `socket._httpMessage`: the response in flight on this connection, if any. */
type HttpSocket = Socket & { _httpMessage?: { headersSent?: boolean } | null };

/** Headers as raw HTTP/1.1 header lines. */
function headerLines(headers: Readonly<Record<string, string>>): string {
  return Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
}

/** What the parser's error means for the client: 408 (timed out), 431 (oversized headers) or 400. */
function classify(error: Error & { code?: string }): Refusal {
  const reason = (error.code ?? 'client_error').toLowerCase();
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { code: 'WARDEN_ERR_REQUEST_TIMEOUT', reason };
  return { code: error.code === 'HPE_HEADER_OVERFLOW' ? 'WARDEN_ERR_HEADERS_TOO_LARGE' : 'WARDEN_ERR_INVALID_REQUEST', reason };
}

/** The IP rules, then the bans: the refusal they make (403), or undefined when they let the client by. */
function guardRefusal(guards: ClientErrorGuards, ip: string, key: string): Refusal | undefined {
  const verdict = guards.rules?.(ip) ?? 'allowed';
  if (verdict !== 'allowed') {
    guards.events.denied(ip, 'ip_rule');
    return { code: 'WARDEN_ERR_IP_FORBIDDEN', reason: verdict };
  }
  const until = guards.bans.enabled && guards.bans.active ? guards.bans.bannedUntil(key) : undefined;
  if (until === undefined) return undefined;
  guards.events.denied(ip, 'banned');
  return { code: 'WARDEN_ERR_IP_BANNED', reason: 'banned', headers: { 'retry-after': String(guards.bans.secondsLeft(until)) } };
}

/** The parser's refusal, or 429 when the per-IP rate limit refused this request. */
function limited(guards: ClientErrorGuards, decision: RateLimitDecision, refusal: Refusal, ip: string): Refusal {
  if (decision.allowed) return refusal;
  guards.events.rateLimited(ip, 'ip');
  return { code: 'WARDEN_ERR_RATE_LIMITED', reason: 'ip', headers: { 'retry-after': String(Math.max(1, Math.ceil(decision.resetMs / 1000))) } };
}

/** The log of refusals: at most one line per interval, carrying the count of those it stands for. */
function createRefusalLog(logger: Logger, interval: number, now: () => number): (refusal: Refusal, ip: string | undefined) => void {
  let lastLog = -Infinity;
  let suppressed = 0;
  let flushTimer: NodeJS.Timeout | undefined;
  return function log(refusal: Refusal, ip: string | undefined): void {
    const time = now();
    if (time - lastLog < interval) {
      suppressed++;
      flushTimer ??= setTimeout(() => {
        flushTimer = undefined;
        if (suppressed > 0) logger.info({ count: suppressed }, 'requests refused by the HTTP parser (since the last line)');
        suppressed = 0;
        lastLog = now();
      }, interval - (time - lastLog)).unref();
      return;
    }
    lastLog = time;
    const status = ERROR_CODES[refusal.code].status;
    logger.info({ status, ip, failure: `${publicCode(refusal.code)}:${refusal.reason}`, count: suppressed + 1 }, 'request refused by the HTTP parser');
    suppressed = 0;
  };
}

/** Writes the refusal on the raw socket and closes it; a socket that cannot take it is destroyed. */
function writeRefusal(socket: HttpSocket, refusal: Refusal, fixedHeaders: string, lingerMs: number): void {
  // Never write into a response already under way on this connection (RFC 9112 §9.6 framing).
  const inFlight = socket._httpMessage;
  if (socket.destroyed || !socket.writable || (inFlight !== undefined && inFlight !== null && inFlight.headersSent === true)) {
    socket.destroy();
    return;
  }
  const status = ERROR_CODES[refusal.code].status;
  const body = errorBody(refusal.code, 'api');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${fixedHeaders}${headerLines(refusal.headers ?? {})}content-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  // Let the client read the answer, then free the socket whatever it does.
  const timer = setTimeout(() => socket.destroy(), lingerMs).unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * Creates the listeners for Node's `clientError` (Fastify's `clientErrorHandler` option) and
 * the server's `connect` event.
 *
 * @example
 * const refusals = createParserRefusals({ headers, logger, stats });
 * const app = Fastify({ clientErrorHandler: refusals.clientError });
 * app.server.on('connect', refusals.connect);
 */
export function createParserRefusals(options: ClientErrorOptions): ParserRefusals {
  const { guards, stats, metrics } = options;
  const lingerMs = options.lingerMs ?? 1000;
  const answered = new WeakSet<Socket>();
  const log = createRefusalLog(options.logger, options.logIntervalMs ?? 10_000, options.now ?? Date.now);
  const fixedHeaders = headerLines(options.headers);

  function write(socket: HttpSocket, refusal: Refusal, ip: string | undefined, labels: MetricLabels): void {
    log(refusal, ip);
    stats.request();
    metrics?.request(labels.route, labels.method, ERROR_CODES[refusal.code].status, 0);
    writeRefusal(socket, refusal, fixedHeaders, lingerMs);
  }

  /** IP rules and bans (403), then the per-IP rate limit (429), then `refusal`. */
  function answer(socket: Socket, refusal: Refusal, labels: MetricLabels): void {
    const ip = socket.remoteAddress;
    // A timed-out request is answered without the guards; so is one behind a trusted proxy.
    if (refusal.code === 'WARDEN_ERR_REQUEST_TIMEOUT' || guards === undefined || ip === undefined || guards.trustedProxy(ip, 0)) {
      write(socket, refusal, ip, labels);
      return;
    }
    const key = clientKey(ip);
    const refused = guardRefusal(guards, ip, key);
    if (refused !== undefined) {
      write(socket, refused, ip, labels);
      return;
    }
    const decision = guards.store.consume(key, guards.limit);
    if (decision instanceof Promise) {
      decision.then(
        (value) => write(socket, limited(guards, value, refusal, ip), ip, labels),
        () => write(socket, refusal, ip, labels),
      );
      return;
    }
    write(socket, limited(guards, decision, refusal, ip), ip, labels);
  }

  /** Whether the socket still wants an answer (first refusal on a live socket); marks it answered. */
  function claim(socket: Socket, code: string | undefined): boolean {
    if (answered.has(socket)) return false;
    if (code === 'ECONNRESET' || socket.destroyed) {
      socket.destroy();
      return false;
    }
    answered.add(socket);
    return true;
  }

  return {
    clientError(error: Error & { code?: string }, socket: Socket): void {
      if (claim(socket, error.code)) answer(socket, classify(error), UNPARSED);
    },
    connect(_request: IncomingMessage, socket: Socket): void {
      // Whatever followed the request head (`head`) is never read: the socket is answered and closed.
      if (claim(socket, undefined)) answer(socket, { code: 'WARDEN_ERR_METHOD_NOT_ALLOWED', reason: 'connect', headers: { allow: ALLOWED_METHODS } }, CONNECT);
    },
  };
}

