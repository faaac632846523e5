/**
 * @module server/types
 * What {@link createServer} takes and returns: the options of the library API and the running
 * server handed to the CLI, tests and the benchmark.
 */

import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config, ConfigOptions } from '../config/load.js';
import type { ProcessErrorKind } from '../observability/metrics.js';
import type { RequestStateTools } from '../mcp/request-state-hook.js';
import type { ServerLike, SessionContext } from '../mcp/sessions.js';
import type { ListenNotifier } from '../mcp/transport/listen.js';
import type { KeySource } from '../security/key-source.js';
import type { GatewayConfig } from '../gateway/config.js';
import type { Gateway } from '../gateway/router.js';

/** What your factory is called with: the session context, and this server's request-state codec. */
export interface FactoryContext extends SessionContext {
  /**
   * Seals and checks `requestState` with this server's secret: give your server
   * `requestState: { verify: requestState.verify }`, call `requestState.bind(server)` (before or after
   * registering), and return `requestState.mint(payload, ctx)` in `inputRequired(...)`.
   * See the README, "Multi round-trip tools".
   */
  readonly requestState: RequestStateTools;
}

/** Builds your MCP server: a `ServerFactory` that may also use {@link FactoryContext.requestState}. */
export type WardenServerFactory = (context: FactoryContext) => ServerLike | Promise<ServerLike>;

/** Options of {@link createServer}. */
export interface WardenServerOptions {
  /**
   * Builds your MCP server for each session (or once, in stateless mode). Defaults to the
   * built-in tools. Must return a new SDK v2 `McpServer`/`Server` (`@modelcontextprotocol/server`)
   * each call unless stateless; an SDK v1 server makes `createServer` reject (`WARDEN_ERR_UNSUPPORTED_SDK`).
   */
  readonly mcpServer?: WardenServerFactory;
  /**
   * Upstream MCP servers to serve instead of your own (`parseGatewayConfig` builds it from the
   * `mcpServers` shape): all of them on `/mcp`, names prefixed, and each alone on `/mcp/<name>`.
   * Takes precedence over the config's gateway; not together with `mcpServer`.
   */
  readonly gateway?: Readonly<GatewayConfig>;
  /**
   * Options in code, validated over the defaults (environment variables are not read).
   * Invalid options make `createServer` reject with a ConfigError listing every problem.
   */
  readonly options?: ConfigOptions;
  /** An already validated configuration (from `loadConfig`); takes precedence over `options`. */
  readonly config?: Readonly<Config>;
  /**
   * Your factory's server may serve every session: it is called once and sessions cost a
   * ~1 KB channel instead of a ~40 KB engine each. Only for servers that keep no state per
   * client (the SDK engine's client capabilities then belong to whichever client initialized
   * last). The built-in server always shares.
   */
  readonly shareServer?: boolean;
  /**
   * Parts of your server only operator credentials may list, call, read, get or complete
   * (operator keys, JWTs with the `<prefix>operator` scope). Tool scopes apply either way.
   */
  readonly operatorOnly?: { readonly tools?: readonly string[]; readonly resourcePrefixes?: readonly string[]; readonly prompts?: readonly string[] };
  /** Logger to use instead of one built from `config.logLevel`. */
  readonly logger?: Logger;
  /**
   * Benchmark only: serve with no IP rules, rate limit, Host/Origin guard, authentication or
   * request log, to measure what they cost. Never use it to serve anyone.
   */
  readonly benchmarkOnlyDisableSecurity?: boolean;
  /**
   * The clock (epoch ms) for everything that expires: key expiry and rotation overlaps, token
   * `exp`, session TTLs, GET-stream lifetimes and the per-tool rate-limit windows (the per-IP and
   * per-key limiters keep a monotonic clock). For tests and simulations; not a CLI option.
   */
  readonly clock?: () => number;
}

/** A running (or startable) mcp-warden server. */
export interface WardenServer {
  readonly config: Readonly<Config>;
  readonly app: FastifyInstance;
  readonly logger: Logger;
  /**
   * The key generated at start because no credential was configured (loopback only);
   * undefined otherwise. Shown once by the CLI; never logged.
   */
  readonly generatedKey: string | undefined;
  /** The keys file reloader, when `--keys-file` is set (reload() for tests and tooling). */
  readonly keySource: KeySource;
  /** The request-state codec (also handed to the factory as `context.requestState`). */
  readonly requestState: RequestStateTools;
  /** The gateway in front of the configured upstream servers; undefined when none is configured. */
  readonly gateway: Gateway | undefined;
  /**
   * Announces a change to the `subscriptions/listen` streams (MCP 2026-07-28) of every replica
   * (through Redis when configured), for changes your server's engine does not announce itself
   * (data that changed elsewhere). A tool, prompt or resource registered at run time on the
   * modern engine is announced without it.
   *
   * @example
   * warden.notify.resourceUpdated('inventory://stock/42');
   */
  readonly notify: ListenNotifier;
  /**
   * Reports an error that reached the process (the CLI installs the handlers): one error log
   * line and `mcp_warden_process_errors_total{kind}`. What to do next is the caller's choice.
   */
  processError(kind: ProcessErrorKind, error: unknown): void;
  /** Listens on `config.host:config.port`; resolves to the base URL. */
  start(): Promise<string>;
  /** Graceful stop: refuse new connections, let in-flight requests finish within `config.shutdownTimeout`, close sessions, flush the audit trail. */
  stop(): Promise<void>;
  /** The bound address once started. */
  address(): AddressInfo | undefined;
}
