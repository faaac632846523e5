/**
 * @module gateway/upstream
 * One configured upstream MCP server and the connections to it. An {@link UpstreamConnection}
 * wraps an SDK v2 `Client` (`@modelcontextprotocol/client`) over a {@link ChildTransport} (stdio)
 * or the SDK's `StreamableHTTPClientTransport` / `SSEClientTransport` (remote), and keeps it
 * alive:
 * - opening (spawn or connect, then the initialize handshake) must finish within `spawnTimeoutMs`;
 * - a crash (the child exits, the legacy SSE stream drops, a remote call fails at the transport)
 *   rejects the calls in flight with `WARDEN_ERR_UPSTREAM_UNAVAILABLE` naming the upstream, and
 *   the next call reopens, after a backoff of 0.5 s doubling to 30 s, reset once the connection
 *   was healthy for 60 s;
 * - every call runs under a timeout (`WARDEN_ERR_UPSTREAM_TIMEOUT`), and a result over
 *   `maxResultBytes` is refused (`WARDEN_ERR_UPSTREAM_RESULT_TOO_LARGE`).
 * Errors the upstream itself answers (`ProtocolError`: unknown tool, invalid params) pass
 * through unchanged; the router relays them.
 *
 * The era: 2025 (`legacy`) by default for stdio (the servers we front are 2025-era), `auto`
 * (probe for 2026-07-28, fall back to `initialize`) by default for remote ones.
 */

import type { Logger } from 'pino';
import {
  Client,
  ProtocolError,
  SdkError,
  SdkErrorCode,
  SSEClientTransport,
  SseError,
  StreamableHTTPClientTransport,
  type ClientCapabilities,
  type RequestOptions,
  type Transport,
} from '@modelcontextprotocol/client';
import { WardenError, isWardenError, type WardenErrorCode } from '../errors.js';
import { VERSION } from '../version.js';
import { ChildTransport, RESULT_TOO_LARGE } from './child-transport.js';
import type { EnvMap, RemoteUpstreamConfig, UpstreamConfig } from './config.js';
import { ClientCredentialsTokens, upstreamFetch, type UpstreamFetch } from './remote.js';
import { delay, realTimers, type Timers } from './timers.js';

/** Restart backoff: first delay, cap, and how long a connection must stay up to reset it. */
export const BACKOFF = { initialMs: 500, maxMs: 30_000, healthyMs: 60_000 } as const;

/** What every upstream shares: where logs go, the parent environment, the clock. */
export interface UpstreamDeps {
  readonly logger: Logger;
  /** Source of a child's minimal base environment (`PATH`, `HOME`...); the composition root passes `process.env`. */
  readonly parentEnv: EnvMap;
  readonly timers?: Timers;
  /** SIGTERM → SIGKILL deadline of a child's process group, ms. Default 5000. */
  readonly killAfterMs?: number;
}

/** Per-connection setup. */
export interface ConnectionOptions {
  /** Capabilities the SDK client announces (add `sampling`, `elicitation`, `roots` to relay them). */
  readonly capabilities?: ClientCapabilities;
  /**
   * Called with every new SDK client before it connects (the first open and every reopen):
   * register request handlers (sampling, elicitation, roots) and notification handlers
   * (list_changed) here, so they survive a restart.
   */
  readonly onClient?: (client: Client, connection: UpstreamConnection) => void;
  /** Called after every successful (re)open, e.g. to list tools again. */
  readonly onReady?: (client: Client, connection: UpstreamConnection) => void;
}

/** Per-call options of {@link UpstreamConnection.request}. */
export interface CallOptions {
  /** Default: the upstream's `callTimeoutMs`. The wait for a reopen counts. */
  readonly timeoutMs?: number;
  /** The caller's cancellation (e.g. the client went away); rejects with its reason. */
  readonly signal?: AbortSignal;
}

export type ConnectionState = 'idle' | 'connecting' | 'ready' | 'down' | 'closed';

/** A WardenError of the gateway family, naming the upstream in the wire message. */
export function upstreamError(code: WardenErrorCode, upstream: string, reason: string, cause?: unknown): WardenError {
  return new WardenError(code, { reason, cause, detail: `(upstream "${upstream}")`, message: `upstream "${upstream}": ${reason}` });
}

const PASS_THROUGH_SDK_CODES = new Set<string>([
  SdkErrorCode.InvalidResult,
  SdkErrorCode.CapabilityNotSupported,
  SdkErrorCode.MethodNotSupportedByProtocolVersion,
  SdkErrorCode.UnsupportedResultType,
  SdkErrorCode.InputRequiredRoundsExceeded,
  SdkErrorCode.ListPaginationExceeded,
]);

/**
 * One connection to an upstream (for stdio: one child process at a time), reopened on demand.
 * Build it with {@link Upstream.connect} or {@link Upstream.connection}.
 */
export class UpstreamConnection {
  readonly #upstream: Upstream;
  readonly #options: ConnectionOptions;
  readonly #timers: Timers;
  #state: ConnectionState = 'idle';
  #client: Client | undefined;
  #transport: Transport | undefined;
  #http: UpstreamFetch | undefined;
  #opening: Promise<Client> | undefined;
  #failures = 0;
  #retryAt = 0;
  #readySince = 0;
  #opens = 0;
  #closing: Promise<void> | undefined;
  /** Aborted by {@link close}: cuts a backoff wait short. */
  readonly #closeSignal = new AbortController();
  readonly #closeListeners = new Set<() => void>();

  /** @internal Use {@link Upstream.connection}. */
  constructor(upstream: Upstream, options: ConnectionOptions) {
    this.#upstream = upstream;
    this.#options = options;
    this.#timers = upstream.timers;
  }

  /** The upstream's name. */
  get upstream(): string {
    return this.#upstream.name;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The current SDK client, while open. Prefer {@link request}, which times out and maps errors. */
  get client(): Client | undefined {
    return this.#state === 'ready' ? this.#client : undefined;
  }

  /** The child's pid (= its process group id) while a stdio upstream runs. */
  get pid(): number | undefined {
    return this.#transport instanceof ChildTransport && this.#state !== 'down' && this.#state !== 'closed' ? this.#transport.pid : undefined;
  }

  /** How many times it was opened (1 after the first open; +1 per restart). */
  get opens(): number {
    return this.#opens;
  }

  /** When the next reopen may start (clock of the injected timers); 0 when it may now. */
  get retryAt(): number {
    return this.#retryAt;
  }

  /** Registers a listener for the final close (by {@link close}); returns its remover. */
  onClose(listener: () => void): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /**
   * Opens the connection if needed (after the backoff delay when it crashed), and returns the client.
   * @throws WardenError `WARDEN_ERR_UPSTREAM_UNAVAILABLE` when it cannot be opened.
   */
  async ready(signal?: AbortSignal): Promise<Client> {
    if (this.#state === 'closed') throw upstreamError('WARDEN_ERR_UPSTREAM_UNAVAILABLE', this.upstream, 'connection closed');
    if (this.#state === 'ready' && this.#client !== undefined) return this.#client;
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return signal === undefined ? this.#opening : raceAbort(this.#opening, signal);
  }

  /**
   * Runs one call on the upstream's client under the call timeout, reopening first if needed.
   * `run` gets the client and the request options to pass on (they carry the abort signal).
   *
   * @example
   * const result = await connection.request((client, options) => client.callTool({ name: 'echo', arguments: { message: 'hi' } }, options));
   * @throws WardenError `WARDEN_ERR_UPSTREAM_UNAVAILABLE` | `WARDEN_ERR_UPSTREAM_TIMEOUT` | `WARDEN_ERR_UPSTREAM_RESULT_TOO_LARGE`,
   *   or the upstream's own `ProtocolError` unchanged.
   */
  async request<T>(run: (client: Client, options: RequestOptions) => Promise<T>, options: CallOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.#upstream.config.callTimeoutMs;
    const controller = new AbortController();
    const timer = this.#timers.setTimeout(() => controller.abort(upstreamError('WARDEN_ERR_UPSTREAM_TIMEOUT', this.upstream, `no answer within ${timeoutMs} ms`)), timeoutMs);
    const caller = options.signal;
    const onCallerAbort = (): void => controller.abort(caller?.reason);
    if (caller?.aborted === true) onCallerAbort();
    else caller?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      const client = await this.ready(controller.signal);
      // The SDK's own timeout is a backstop behind ours (which follows the injected clock).
      return await run(client, { signal: controller.signal, timeout: timeoutMs + 1000 });
    } catch (error) {
      if (controller.signal.aborted) throw controller.signal.reason;
      throw this.#mapError(error);
    } finally {
      this.#timers.clearTimeout(timer);
      caller?.removeEventListener('abort', onCallerAbort);
    }
  }

  /** Closes for good: the child's process group gets SIGTERM, then SIGKILL after the deadline. Resolves once it is gone. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const opening = this.#opening;
      this.#state = 'closed';
      this.#closeSignal.abort(upstreamError('WARDEN_ERR_UPSTREAM_UNAVAILABLE', this.upstream, 'connection closed'));
      // Closing the transport first makes a pending open fail at once instead of running out its timeout.
      await this.#teardown();
      await opening?.catch(() => undefined);
      await this.#teardown();
      for (const listener of this.#closeListeners) listener();
      this.#closeListeners.clear();
    })();
    return this.#closing;
  }

  #mapError(error: unknown): unknown {
    if (isWardenError(error)) return error;
    if (error instanceof ProtocolError) {
      const data = error.data as { warden?: unknown } | undefined;
      if (data?.warden === RESULT_TOO_LARGE) return upstreamError('WARDEN_ERR_UPSTREAM_RESULT_TOO_LARGE', this.upstream, 'result over maxResultBytes', error);
      return error;
    }
    if (error instanceof SdkError) {
      if (PASS_THROUGH_SDK_CODES.has(error.code)) return error;
      if (error.code === SdkErrorCode.RequestTimeout) return upstreamError('WARDEN_ERR_UPSTREAM_TIMEOUT', this.upstream, 'request timeout', error);
    }
    if (error instanceof Error && /exceeds maxResultBytes/.test(error.message)) {
      return upstreamError('WARDEN_ERR_UPSTREAM_RESULT_TOO_LARGE', this.upstream, 'result over maxResultBytes', error);
    }
    // A transport failure: for a remote upstream the session may be gone, so reopen next time.
    if (this.#upstream.config.kind === 'remote' && this.#state === 'ready') this.#down(error);
    return upstreamError('WARDEN_ERR_UPSTREAM_UNAVAILABLE', this.upstream, this.#state === 'down' ? 'connection lost' : 'call failed', error);
  }

  async #open(): Promise<Client> {
    const wait = this.#retryAt - this.#timers.now();
    if (wait > 0) await delay(this.#timers, wait, this.#closeSignal.signal);
    if (this.#state === 'closed') throw upstreamError('WARDEN_ERR_UPSTREAM_UNAVAILABLE', this.upstream, 'connection closed');
    this.#state = 'connecting';
    const upstream = this.#upstream;
    const config = upstream.config;
    const client = new Client(
      { name: 'mcp-warden-gateway', version: VERSION },
      { capabilities: this.#options.capabilities ?? {}, versionNegotiation: { mode: config.versionNegotiation } },
    );
    const transport = this.#makeTransport(config);
    this.#client = client;
    this.#transport = transport;
    this.#options.onClient?.(client, this);
    client.onclose = () => {
      if (this.#client === client && this.#state === 'ready') this.#down(new Error('connection closed'));
    };
    client.onerror = (error) => {
      // The legacy SSE stream dropping leaves the session unusable: reopen it.
      if (error instanceof SseError && this.#client === client && this.#state === 'ready') this.#down(error);
    };
    let timer: unknown;
    const timedOut = new Promise<never>((_, reject) => {
      timer = this.#timers.setTimeout(() => reject(upstreamError('WARDEN_ERR_UPSTREAM_UNAVAILABLE', upstream.name, `not ready within ${config.spawnTimeoutMs} ms`)), config.spawnTimeoutMs);
    });
    try {
      await Promise.race([client.connect(transport), timedOut]);
    } catch (error) {
      this.#timers.clearTimeout(timer);
      upstream.logger.warn({ upstream: upstream.name, err: describe(error) }, 'upstream failed to open');
      await this.#teardown();
      if (!this.#isClosed()) {
        this.#state = 'down';
        this.#scheduleRetry();
      }
      throw isWardenError(error) ? error : upstreamError('WARDEN_ERR_UPSTREAM_UNAVAILABLE', upstream.name, 'failed to open', error);
    }
    this.#timers.clearTimeout(timer);
    if (this.#isClosed()) {
      await this.#teardown();
      throw upstreamError('WARDEN_ERR_UPSTREAM_UNAVAILABLE', upstream.name, 'connection closed');
    }
    this.#state = 'ready';
    this.#readySince = this.#timers.now();
    this.#opens++;
    upstream.logger.info({ upstream: upstream.name, childPid: this.pid, opens: this.#opens, server: client.getServerVersion()?.name }, 'upstream ready');
    this.#options.onReady?.(client, this);
    return client;
  }

  /** Read through a method: `close()` may change the state across an await. */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #makeTransport(config: UpstreamConfig): Transport {
    const upstream = this.#upstream;
    if (config.kind === 'stdio') {
      return new ChildTransport({
        name: config.name,
        command: config.command,
        args: config.args,
        env: config.env,
        cwd: config.cwd,
        parentEnv: upstream.deps.parentEnv,
        logger: upstream.logger,
        maxResultBytes: config.maxResultBytes,
        maxLineBytes: Math.max(16 * 1024 * 1024, config.maxResultBytes),
        killAfterMs: upstream.deps.killAfterMs ?? 5000,
        timers: this.#timers,
      });
    }
    return this.#remoteTransport(config);
  }

  #remoteTransport(config: RemoteUpstreamConfig): Transport {
    if (config.allowInsecureTls) {
      this.#upstream.logger.warn({ upstream: config.name }, 'TLS CERTIFICATE VERIFICATION IS OFF for this upstream (allowInsecureTls): for tests only, never in production');
    }
    const http = upstreamFetch(config);
    this.#http = http;
    const authProvider = config.oauth === undefined ? undefined : new ClientCredentialsTokens(config.name, config.oauth, http.fetch, this.#timers);
    const requestInit: RequestInit = { headers: { ...config.headers } };
    const url = new URL(config.url);
    return config.transport === 'sse'
      ? new SSEClientTransport(url, { fetch: http.fetch, requestInit, ...(authProvider === undefined ? {} : { authProvider }) })
      : new StreamableHTTPClientTransport(url, { fetch: http.fetch, requestInit, onInsufficientScope: 'throw', ...(authProvider === undefined ? {} : { authProvider }) });
  }

  #down(error: unknown): void {
    this.#state = 'down';
    this.#scheduleRetry();
    this.#upstream.logger.warn({ upstream: this.upstream, err: describe(error), retryInMs: this.#retryAt - this.#timers.now() }, 'upstream connection lost; reopening on the next call');
    void this.#teardown();
  }

  #scheduleRetry(): void {
    const now = this.#timers.now();
    if (this.#readySince > 0 && now - this.#readySince >= BACKOFF.healthyMs) this.#failures = 0;
    this.#readySince = 0;
    this.#retryAt = now + Math.min(BACKOFF.maxMs, BACKOFF.initialMs * 2 ** this.#failures);
    this.#failures++;
  }

  async #teardown(): Promise<void> {
    const client = this.#client;
    const transport = this.#transport;
    const http = this.#http;
    this.#client = undefined;
    this.#transport = undefined;
    this.#http = undefined;
    if (client !== undefined) client.onclose = undefined;
    await client?.close().catch(() => undefined);
    // The client closes its transport; a child's close also waits for its process group to go.
    await transport?.close().catch(() => undefined);
    await http?.close().catch(() => undefined);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * One configured upstream server.
 *
 * @example
 * const upstream = new Upstream(config.upstreams[0], { logger, parentEnv: process.env });
 * const connection = await upstream.connect();
 * const { tools } = await connection.request((client, options) => client.listTools(undefined, options));
 * await connection.close();
 */
export class Upstream {
  readonly config: UpstreamConfig;
  readonly deps: UpstreamDeps;
  readonly logger: Logger;
  readonly timers: Timers;

  constructor(config: UpstreamConfig, deps: UpstreamDeps) {
    this.config = config;
    this.deps = deps;
    this.logger = deps.logger;
    this.timers = deps.timers ?? realTimers;
  }

  get name(): string {
    return this.config.name;
  }

  /** A connection that opens on its first call (or {@link UpstreamConnection.ready}). */
  connection(options: ConnectionOptions = {}): UpstreamConnection {
    return new UpstreamConnection(this, options);
  }

  /**
   * A connection, opened now (spawn or connect, initialize).
   * @throws WardenError `WARDEN_ERR_UPSTREAM_UNAVAILABLE` when it cannot be opened within `spawnTimeoutMs`
   *   (the connection is then closed: nothing is left running).
   */
  async connect(options: ConnectionOptions = {}): Promise<UpstreamConnection> {
    const connection = this.connection(options);
    try {
      await connection.ready();
    } catch (error) {
      await connection.close();
      throw error;
    }
    return connection;
  }
}
