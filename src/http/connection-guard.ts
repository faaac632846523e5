/**
 * @module http/connection-guard
 * Caps on the TCP connections one client, and all clients, may hold, and the lingering close
 * that follows an error answer whose request body was never read.
 *
 * Why hand-written: the caps must act at the `connection` event, before Node's HTTP parser is
 * attached, so that a refused socket costs one small write and no request object. Fastify's
 * plugins (`@fastify/rate-limit`, `under-pressure`) count requests, which a stalled client never
 * completes; `net.Server#maxConnections` has no per-address cap and drops silently; nginx's
 * `limit_conn` and lingering close have no Node equivalent. The phases of a request (headers,
 * body, keep-alive idle) are bounded by Node's own server timeouts, set in `http/app.ts`.
 *
 * Per-address counts are keyed like the rate limit (IPv4 address, IPv6 /64) on the socket peer:
 * behind a proxy that peer is the proxy, so trusted proxy addresses (`--trust-proxy`) are exempt
 * from the per-address cap and only the total cap applies to them.
 */

import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { TrustProxy } from '../config/options.js';
import { clientKey, createProxyTrust } from '../security/client-ip.js';

/** File descriptors assumed when the limit cannot be read (not Linux, or /proc unavailable). */
export const FALLBACK_FD_LIMIT = 4096;
/** Most sockets refused over a cap that may linger at once to deliver their 503; beyond it they are destroyed. */
const MAX_REFUSED_LINGERING = 256;
/** How long a refused socket may linger so the client reads the 503 (ms). */
const REFUSED_LINGER_MS = 1000;
/** Most bytes read and discarded while lingering after an error answer. */
export const LINGER_MAX_BYTES = 1024 * 1024;
const LINGER_CHECK_MS = 250;

/** The answer written to a refused connection: fixed, tiny, and built once. */
const REFUSAL_BODY = '{"error":"too_many_connections","message":"Service Unavailable: too many connections"}';
const REFUSAL = Buffer.from(
  'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nCache-Control: no-store\r\n' +
    'X-Content-Type-Options: nosniff\r\nContent-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${REFUSAL_BODY.length}\r\n\r\n${REFUSAL_BODY}`,
  'latin1',
);

/**
 * The soft "Max open files" limit of this process from `/proc/self/limits`, or
 * {@link FALLBACK_FD_LIMIT} when it cannot be read or is unlimited.
 */
export function fileDescriptorLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number {
  try {
    const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(read());
    if (match === null || match[1] === 'unlimited') return FALLBACK_FD_LIMIT;
    const limit = Number(match[1]);
    return limit > 0 ? limit : FALLBACK_FD_LIMIT;
  } catch {
    return FALLBACK_FD_LIMIT;
  }
}

/**
 * Default caps for a file-descriptor limit: three quarters of the descriptors for client
 * connections (the rest for the refusal pool, Redis, log and audit files, the runtime), and a
 * tenth of that per address, between 16 and 256.
 *
 * @example
 * defaultConnectionCaps(1024);  // { total: 768, perAddress: 76 }
 * defaultConnectionCaps(20000); // { total: 15000, perAddress: 256 }
 */
export function defaultConnectionCaps(fdLimit: number): { total: number; perAddress: number } {
  const total = Math.max(32, Math.floor(fdLimit * 0.75));
  const perAddress = Math.min(256, Math.max(16, Math.floor(total / 10)));
  return { total, perAddress: Math.min(perAddress, total) };
}

/**
 * Which socket peers are trusted proxies (exempt from the per-address cap): the socket peer is
 * hop 0 of the same rule the client address is derived with. With `--trust-proxy <hops>` every
 * peer is declared to be a proxy, since capping per peer would cap the proxy's pool.
 */
export function trustedProxyPeers(trust: TrustProxy): (address: string) => boolean {
  const trusted = createProxyTrust(trust);
  return (address) => trusted(address.startsWith('::ffff:') ? address.slice(7) : address, 0);
}

export type RefusalReason = 'total' | 'per_address';

export interface ConnectionGuardOptions {
  /** Connections held at once, from every client. */
  readonly maxConnections: number;
  /** Connections one address (IPv6: one /64) may hold at once. */
  readonly maxConnectionsPerAddress: number;
  /** Peers exempt from the per-address cap (trusted proxies). */
  readonly exempt?: (address: string) => boolean;
  /** After an error answer with an unread body: how long to keep reading and discarding (ms); 0 closes at once. */
  readonly lingerMs: number;
  readonly logger?: Logger;
  /** Called for every refused connection (metrics). */
  readonly onRefused?: (reason: RefusalReason) => void;
  /** At most one warning line per this many ms, with the count since the last one. */
  readonly warnIntervalMs?: number;
}

/** Per-server linger settings, found from a socket through `socket.server`. */
const lingerByServer = new WeakMap<object, number>();

/**
 * Counts connections per address and in total, refusing those over a cap at the `connection`
 * event, before Node's HTTP parser sees them.
 *
 * @example
 * const guard = new ConnectionGuard({ maxConnections: 768, maxConnectionsPerAddress: 76, lingerMs: 5000, logger });
 * guard.install(app.server); // before listen
 */
export class ConnectionGuard {
  readonly #max: number;
  readonly #maxPerAddress: number;
  readonly #exempt: (address: string) => boolean;
  readonly #lingerMs: number;
  readonly #logger: Logger | undefined;
  readonly #onRefused: ((reason: RefusalReason) => void) | undefined;
  readonly #warnIntervalMs: number;
  readonly #perAddress = new Map<string, number>();
  #open = 0;
  #lingering = 0;
  #refused = 0;
  #unreported = 0;
  #warnTimer: NodeJS.Timeout | undefined;

  constructor(options: ConnectionGuardOptions) {
    this.#max = options.maxConnections;
    this.#maxPerAddress = options.maxConnectionsPerAddress;
    this.#exempt = options.exempt ?? (() => false);
    this.#lingerMs = options.lingerMs;
    this.#logger = options.logger;
    this.#onRefused = options.onRefused;
    this.#warnIntervalMs = options.warnIntervalMs ?? 10_000;
  }

  get maxConnections(): number {
    return this.#max;
  }

  get maxConnectionsPerAddress(): number {
    return this.#maxPerAddress;
  }

  /** Connections currently admitted (stalled, streaming and lingering ones included). */
  get open(): number {
    return this.#open;
  }

  /** Connections refused since start. */
  get refused(): number {
    return this.#refused;
  }

  /**
   * Puts the guard in front of the server's own `connection` listeners (Node's HTTP parser).
   * Call once, before `listen`.
   */
  install(server: Server): void {
    lingerByServer.set(server, this.#lingerMs);
    const listeners = server.listeners('connection') as Array<(this: Server, socket: Socket) => void>;
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      if (!this.#admit(socket)) return;
      for (const listener of listeners) listener.call(server, socket);
    });
  }

  /** Stops the warning timer (the last count is logged). */
  close(): void {
    if (this.#warnTimer !== undefined) clearTimeout(this.#warnTimer);
    this.#warnTimer = undefined;
    this.#report();
  }

  #admit(socket: Socket): boolean {
    const address = socket.remoteAddress;
    if (address === undefined) {
      // Already gone (reset before we saw it).
      socket.destroy();
      return false;
    }
    if (this.#open >= this.#max) return this.#refuse(socket, 'total');
    let key: string | undefined;
    if (!this.#exempt(address)) {
      key = clientKey(address);
      const held = this.#perAddress.get(key) ?? 0;
      if (held >= this.#maxPerAddress) return this.#refuse(socket, 'per_address');
      this.#perAddress.set(key, held + 1);
    }
    this.#open++;
    socket.once('close', () => {
      this.#open--;
      if (key === undefined) return;
      const held = (this.#perAddress.get(key) ?? 1) - 1;
      if (held <= 0) this.#perAddress.delete(key);
      else this.#perAddress.set(key, held);
    });
    return true;
  }

  #refuse(socket: Socket, reason: RefusalReason): false {
    this.#refused++;
    this.#unreported++;
    this.#onRefused?.(reason);
    if (this.#warnTimer === undefined) this.#report();
    socket.on('error', noop);
    if (this.#lingering >= MAX_REFUSED_LINGERING) {
      socket.destroy();
      return false;
    }
    // Write the 503 and half-close, then read and discard briefly: closing with unread input
    // would send a reset that can discard the 503 before the client reads it.
    this.#lingering++;
    socket.end(REFUSAL);
    socket.resume();
    const timer = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      this.#lingering--;
    });
    return false;
  }

  /** Logs the refusals since the last line, then waits an interval before the next one. */
  #report(): void {
    if (this.#unreported === 0) {
      this.#warnTimer = undefined;
      return;
    }
    this.#logger?.warn(
      { refused: this.#unreported, open: this.#open, maxConnections: this.#max, maxConnectionsPerIp: this.#maxPerAddress },
      'connections refused over the connection caps',
    );
    this.#unreported = 0;
    this.#warnTimer = setTimeout(() => this.#report(), this.#warnIntervalMs);
    this.#warnTimer.unref();
  }
}

function noop(): void {}

/**
 * The guard for a configuration: caps as configured, or derived from the open-files limit.
 *
 * @example
 * const guard = connectionGuardFor(config, { logger });
 */
export function connectionGuardFor(
  config: Pick<Config, 'connections' | 'trustProxy'>,
  options: { readonly logger?: Logger; readonly onRefused?: (reason: RefusalReason) => void; readonly fdLimit?: number } = {},
): ConnectionGuard {
  const caps = defaultConnectionCaps(options.fdLimit ?? fileDescriptorLimit());
  const maxConnections = config.connections.max ?? caps.total;
  return new ConnectionGuard({
    maxConnections,
    maxConnectionsPerAddress: config.connections.maxPerIp ?? Math.min(caps.perAddress, maxConnections),
    exempt: trustedProxyPeers(config.trustProxy),
    lingerMs: config.connections.lingerTimeout * 1000,
    logger: options.logger,
    onRefused: options.onRefused,
  });
}

/** True when the request announced a body (Content-Length > 0 or chunked) that is not fully read. */
export function hasUnreadBody(raw: { readonly complete: boolean; readonly headers: Readonly<Record<string, string | string[] | undefined>> }): boolean {
  if (raw.complete) return false;
  const length = raw.headers['content-length'];
  return (length !== undefined && length !== '0') || raw.headers['transfer-encoding'] !== undefined;
}

/**
 * Makes the socket close after the current response with a lingering read (as nginx's
 * lingering_close): the response is flushed and the write side half-closed, then what the
 * client still sends is read and discarded for at most the server's linger time or
 * {@link LINGER_MAX_BYTES}, then the socket is destroyed. Closing at once with unread input
 * makes the kernel send a reset, and clients still writing the body (Node's fetch) see
 * EPIPE/ECONNRESET instead of the status. The caller sets `Connection: close`.
 */
export function lingerAfterResponse(socket: Socket | null | undefined): void {
  if (socket === null || socket === undefined) return;
  const lingerMs = lingerByServer.get((socket as Socket & { server?: object }).server ?? socket) ?? 0;
  if (lingerMs <= 0) return;
  // Node's HTTP server calls destroySoon() once a `Connection: close` response is finished.
  socket.destroySoon = function lingeringDestroySoon(this: Socket): void {
    if (this.writable) this.end();
    const startedAt = this.bytesRead;
    let waited = 0;
    const timer = setInterval(() => {
      waited += LINGER_CHECK_MS;
      if (waited >= lingerMs || this.bytesRead - startedAt > LINGER_MAX_BYTES) this.destroy();
    }, LINGER_CHECK_MS);
    this.once('close', () => clearInterval(timer));
  };
}
