/**
 * @module gateway/router
 * The gateway: mcp-warden in front of other MCP servers. {@link Gateway} owns one connection
 * pool per configured upstream (`gateway/pool`), the pin guard, and the servers it hands
 * mcp-warden's transport through {@link Gateway.factory} (every upstream, names prefixed, on
 * `/mcp`; one upstream alone on `/mcp/<name>`), so every request meets the whole security stack
 * (authentication, IP rules, rate limits, scopes, the audit trail) before it reaches an upstream.
 *
 * Connections and their owners (`gateway/owners`): a 2025 session's requests go through the
 * session's own connections (with `session` isolation: a child per session and upstream),
 * released when the session ends (the product's close); 2026-07-28 and `--stateless` requests
 * through their principal's, released after `idleOwnerMs` unused or when the credential ends.
 * `shared` upstreams serve everyone from their pool.
 *
 * Changes flow to clients: an upstream's `list_changed` (tools, prompts, resources) is sent by
 * every live product serving that upstream (for a session's own connection: that session's
 * product only); 2026-07-28 listeners get it through the modern engine's listen streams. A
 * re-pin (the lock file watched, or {@link Gateway.reloadPins}) re-evaluates every listed tool
 * and announces a tool list change everywhere. Server-to-client requests of an upstream are
 * relayed to 2025 sessions (`gateway/relay`) and, through `input_required` with our sealed
 * requestState, to 2026-07-28 clients (`gateway/input-rounds`; the products are bound to the codec).
 *
 * Our clients' credentials never go upstream: products see a principal, the upstream layer
 * sends only the headers its config names (the MCP spec's no-token-passthrough rule).
 */

import type { Logger } from 'pino';
import type { Client, RequestOptions } from '@modelcontextprotocol/client';
import type { Server, ServerContext } from '@modelcontextprotocol/server';
import { NO_OPERATOR_PARTS, type AccessRules } from '../mcp/access.js';
import type { RequestStateTools } from '../mcp/request-state-hook.js';
import type { ServerFactory, SessionContext } from '../mcp/sessions.js';
import { principalOfAuthInfo } from '../security/identity.js';
import type { EnvMap, GatewayConfig } from './config.js';
import { LockWatch } from './lock-watch.js';
import { UriRoutes, View } from './names.js';
import { Operations, type Caller, type ClientLink, type SecretEvent } from './operations.js';
import { Owners, principalOwnerKey, sessionOwnerKey } from './owners.js';
import type { PinReload, PinTransition } from './pin-guard.js';
import { PinGuard } from './pin-guard.js';
import { ChildBudget, UpstreamPool } from './pool.js';
import { buildProduct, type ProductHost } from './product.js';
import { InputRounds, MODERN_RELAY_CAPABILITIES } from './input-rounds.js';
import { forwardRootsChanges, installRelay, relayCapabilities } from './relay.js';
import { DEFAULT_MAX_SCAN_CHARS } from './secrets.js';
import type { Timers } from './timers.js';
import { Upstream, type ConnectionOptions } from './upstream.js';

/** Where the gateway's security events go (the composition root passes `SecurityEvents`). */
export interface GatewayEventSink {
  /** A tool's pin verdict changed (audit record, warn log line, metric). */
  pinTransition?(transition: PinTransition): void;
  /** A secret passed through (audit record, warn log line, metric). */
  secretFound?(event: SecretEvent): void;
}

export interface GatewayOptions {
  readonly logger: Logger;
  /** Source of a child's minimal base environment (`PATH`, `HOME`...). */
  readonly parentEnv: EnvMap;
  readonly events?: GatewayEventSink | undefined;
  readonly timers?: Timers | undefined;
  /** SIGTERM → SIGKILL deadline of a child's process group, ms (default 5000). */
  readonly killAfterMs?: number | undefined;
  /** A principal's connections (2026-07-28, `--stateless`) are released after this long unused, ms (default 10 min). */
  readonly idleOwnerMs?: number | undefined;
  /** How often idle principal connections are looked for, ms (default 30 s; 0: only by {@link Gateway.sweep}). */
  readonly sweepEveryMs?: number | undefined;
  /** Clock of owner idleness and of input rounds (default the timers' clock). */
  readonly now?: (() => number) | undefined;
  /**
   * The request-state codec: products verify retries with it, and 2026-07-28 clients get the
   * upstreams' sampling, elicitation and roots requests as `input_required` (without it, not at all).
   */
  readonly requestState?: RequestStateTools | undefined;
  /** How long a modern call waits for its client's input, ms (the requestState TTL; default 10 min). */
  readonly inputTtlMs?: number | undefined;
  /** Modern calls waiting for client input at once: in total (default 1000) and per principal (default 16). */
  readonly maxInputRounds?: number | undefined;
  readonly maxInputRoundsPerKey?: number | undefined;
}

/** One live product: what it serves, and the session owning it (2025 sessions). */
interface Product {
  readonly server: Server;
  readonly view: View;
  readonly ownerKey: string | undefined;
}

type ListKind = 'tools' | 'prompts' | 'resources';

const LIST_CHANGED: Readonly<Record<ListKind, string>> = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
};

function announce(server: Server, kind: ListKind): Promise<void> {
  return kind === 'tools' ? server.sendToolListChanged() : kind === 'prompts' ? server.sendPromptListChanged() : server.sendResourceListChanged();
}

/**
 * @example
 * const gateway = new Gateway(config.gateway, { logger, parentEnv: process.env, events });
 * const warden = await createServer({ mcpServer: gateway.factory(), ... }); // createServer({ gateway }) does this
 * gateway.start();
 * await gateway.close(); // no child survives
 */
export class Gateway implements ProductHost {
  readonly config: GatewayConfig;
  readonly guard: PinGuard;
  readonly #logger: Logger;
  readonly #events: GatewayEventSink | undefined;
  readonly #pools = new Map<string, UpstreamPool>();
  readonly #owners: Owners;
  readonly #operations: Operations;
  readonly #products = new Set<Product>();
  readonly #links = new WeakMap<Client, ClientLink>();
  readonly #all: View;
  readonly #alone = new Map<string, View>();
  readonly #idleOwnerMs: number;
  readonly #sweepEveryMs: number;
  readonly #requestState: RequestStateTools | undefined;
  readonly #rounds: InputRounds | undefined;
  #watch: LockWatch | undefined;
  #sweeper: NodeJS.Timeout | undefined;

  /** @throws PinLockError (`WARDEN_ERR_CONFIG`) when the lock file is invalid, not trusted, or named and missing. */
  constructor(config: GatewayConfig, options: GatewayOptions) {
    this.config = config;
    this.#logger = options.logger;
    this.#events = options.events;
    this.#idleOwnerMs = options.idleOwnerMs ?? 10 * 60_000;
    this.#sweepEveryMs = options.sweepEveryMs ?? 30_000;
    this.guard = new PinGuard({
      newTools: config.newTools,
      lockFile: config.pinLock?.path,
      allowMissing: config.pinLock?.optional === true,
      onTransition: (transition) => this.#events?.pinTransition?.(transition),
    });
    const budget = new ChildBudget(config);
    const deps = { logger: options.logger, parentEnv: options.parentEnv, timers: options.timers, killAfterMs: options.killAfterMs };
    for (const upstream of config.upstreams) {
      this.#pools.set(upstream.name, new UpstreamPool(new Upstream(upstream, deps), { budget, shared: this.#connectionOptions(upstream.name, undefined, undefined) }));
      this.#alone.set(upstream.name, new View([upstream.name], config.separator, false));
    }
    this.#all = new View(config.upstreams.map((upstream) => upstream.name), config.separator, true);
    const timers = options.timers;
    const now = options.now ?? (timers === undefined ? Date.now : () => timers.now());
    this.#owners = new Owners(now);
    const requestState = options.requestState;
    this.#requestState = requestState;
    this.#rounds =
      requestState === undefined
        ? undefined
        : new InputRounds({ ttlMs: options.inputTtlMs ?? 10 * 60_000, now, maxTotal: options.maxInputRounds, maxPerPrincipal: options.maxInputRoundsPerKey });
    const rounds = this.#rounds;
    this.#operations = new Operations({
      guard: this.guard,
      secrets: config.secrets,
      separator: config.separator,
      uris: new UriRoutes(),
      call: (upstream, caller, run) => this.#call(upstream, caller, run),
      logger: options.logger,
      onSecrets: (event) => this.#events?.secretFound?.(event),
      maxScanChars: Math.max(DEFAULT_MAX_SCAN_CHARS, ...config.upstreams.map((upstream) => upstream.maxResultBytes)),
      rounds: rounds === undefined || requestState === undefined ? undefined : { table: rounds, mint: (payload, ctx) => requestState.mint(payload, ctx) },
    });
  }

  /** The upstream names, in config order. */
  get upstreams(): readonly string[] {
    return this.#all.upstreams;
  }

  /**
   * The server factory for `createServer`'s `mcpServer`: every upstream (names prefixed), or
   * `upstream` alone (its own names).
   */
  factory(upstream?: string): ServerFactory {
    const view = this.#view(upstream);
    return (context) => this.#build(view, context);
  }

  /**
   * The access rules of an endpoint: tool scopes name tools `<upstream><sep><tool>` on both,
   * and the `readonly` scope follows the upstreams' `readOnlyHint` annotations.
   */
  accessRules(upstream?: string): AccessRules {
    const view = this.#view(upstream);
    return Object.freeze({
      ...NO_OPERATOR_PARTS,
      scopeName: view.prefixed ? undefined : (name: string) => view.scopeName(name),
      readOnlyTool: (name: string) => this.#operations.readOnly(view.scopeName(name)),
    });
  }

  /** Watches the lock file and starts looking for idle principal connections. */
  start(): void {
    const lock = this.config.pinLock;
    if (lock !== undefined && this.#watch === undefined) {
      this.#watch = new LockWatch(lock.path, () => this.reloadPins());
      if (!this.#watch.start()) this.#logger.warn({ lockFile: lock.path }, 'the pin lock file cannot be watched; restart to apply a re-pin');
    }
    if (this.#sweepEveryMs > 0 && this.#sweeper === undefined) {
      this.#sweeper = setInterval(() => void this.sweep(), this.#sweepEveryMs);
      this.#sweeper.unref();
    }
  }

  /** Modern calls waiting for their client's input now. */
  get waitingForInput(): number {
    return this.#rounds?.size ?? 0;
  }

  /** Calls in flight / waiting for a slot on `upstream` now. */
  load(upstream: string): { readonly active: number; readonly waiting: number } {
    const pool = this.#pools.get(upstream);
    if (pool === undefined) throw new Error(`no upstream named ${upstream}`);
    return pool.load;
  }

  /** Closes every connection; resolves once no child is left. */
  async close(): Promise<void> {
    this.#rounds?.clear();
    this.#watch?.close();
    this.#watch = undefined;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    await Promise.all([...this.#pools.values()].map((pool) => pool.closeAll()));
  }

  /** Pids of the children running now, all upstreams. */
  pids(): number[] {
    return [...this.#pools.values()].flatMap((pool) => pool.pids());
  }

  /** Re-reads the lock file; on success every product announces a tool list change. */
  reloadPins(): PinReload {
    const result = this.guard.reload();
    if (result.ok) {
      this.#logger.info({ lockFile: this.config.pinLock?.path, upstreams: result.upstreams, tools: result.tools }, 'pin lock reloaded');
      for (const product of this.#products) void announce(product.server, 'tools').catch(() => undefined);
    } else {
      this.#logger.error({ lockFile: this.config.pinLock?.path, error: result.error }, 'pin lock reload failed; keeping the previous pins');
    }
    return result;
  }

  /** Releases the connections of principals idle for `idleOwnerMs` (run periodically by {@link start}). */
  async sweep(): Promise<void> {
    this.#rounds?.sweep();
    const idle = this.#owners.idle(this.#idleOwnerMs).filter((owner) => this.#rounds?.holds(owner.key) !== true);
    await Promise.all(idle.map((owner) => this.#release(owner.key)));
  }

  /** Releases the connections of owners whose credential `valid` no longer accepts. */
  async endOwners(valid: (principal: Caller['principal']) => boolean): Promise<void> {
    await Promise.all(this.#owners.ended(valid).map((owner) => this.#release(owner.key)));
  }

  /** @internal {@link ProductHost}: the caller of a request a product is serving. */
  enter(context: SessionContext, ctx: ServerContext, product: Server): { readonly caller: Caller; done(): void } {
    const session = context.era !== 'modern' && context.sessionId !== undefined;
    // A session's requests come from its owner (the transport checks); sessionless ones carry their own.
    const principal = session ? context.principal : (principalOfAuthInfo(ctx.http?.authInfo) ?? context.principal);
    const key = session ? sessionOwnerKey(context.sessionId as string) : principalOwnerKey(principal);
    const owner = this.#owners.enter(key, principal, session, ctx);
    const caller: Caller = { ownerKey: key, principal, sessionId: session ? context.sessionId : undefined, ctx, product, modern: context.era === 'modern' };
    return { caller, done: () => this.#owners.leave(owner, ctx) };
  }

  #view(upstream: string | undefined): View {
    if (upstream === undefined) return this.#all;
    const view = this.#alone.get(upstream);
    if (view === undefined) throw new Error(`no upstream named ${upstream}`);
    return view;
  }

  #build(view: View, context: SessionContext): Server {
    const server = buildProduct(view, this.#operations, this, context, this.#requestState);
    const ownerKey = context.era !== 'modern' && context.sessionId !== undefined ? sessionOwnerKey(context.sessionId) : undefined;
    const product: Product = { server, view, ownerKey };
    this.#products.add(product);
    if (ownerKey !== undefined) forwardRootsChanges(server, () => this.#owners.get(ownerKey));
    const previous = server.onclose;
    server.onclose = () => {
      previous?.();
      this.#products.delete(product);
      // The session ended: its children go (session isolation).
      if (ownerKey !== undefined) void this.#release(ownerKey);
    };
    return server;
  }

  async #release(ownerKey: string): Promise<void> {
    this.#owners.delete(ownerKey);
    await Promise.all([...this.#pools.values()].map((pool) => pool.release(ownerKey)));
  }

  #call<T>(upstream: string, caller: Caller, run: (client: Client, options: RequestOptions, link: ClientLink) => Promise<T>): Promise<T> {
    const pool = this.#pools.get(upstream) as UpstreamPool;
    // 2025 relays need a session to relay to (gateway/relay); modern ones go through input rounds.
    const product = caller.sessionId === undefined ? undefined : caller.product;
    const rounds = this.#rounds;
    // Every call is counted on its connection, so an upstream request is relayed only when one call can be its cause.
    const tracked = (client: Client, options: RequestOptions): Promise<T> => {
      const link = this.#linkOf(client, upstream);
      return rounds === undefined ? run(client, options, link) : rounds.track(client, caller.exchange, () => run(client, options, link));
    };
    return pool.call(caller.ownerKey, caller.principal.id, tracked, {
      // An exchange's upstream call outlives its first request: it has its own signal.
      signal: caller.signal ?? caller.ctx.mcpReq.signal,
      connection: this.#connectionOptions(upstream, caller.ownerKey, product),
    });
  }

  #linkOf(client: Client, upstream: string): ClientLink {
    let link = this.#links.get(client);
    if (link === undefined) this.#links.set(client, (link = { upstream, tools: undefined }));
    return link;
  }

  /**
   * How a connection of `upstream` is set up (for `ownerKey`, undefined for a shared one): every
   * new client (first open and reopen) gets the list_changed handlers and the relays: for a 2025
   * session, to the session (`gateway/relay`); for a principal's own connection, to modern
   * clients through input rounds (`gateway/input-rounds`).
   */
  #connectionOptions(upstream: string, ownerKey: string | undefined, product: Server | undefined): ConnectionOptions {
    const rounds = ownerKey !== undefined && product === undefined ? this.#rounds : undefined;
    const capabilities = rounds === undefined ? relayCapabilities(product) : MODERN_RELAY_CAPABILITIES;
    let current: Client | undefined;
    return {
      capabilities,
      onClient: (client) => {
        const link = this.#linkOf(client, upstream);
        const owner = ownerKey === undefined ? undefined : this.#owners.get(ownerKey);
        if (current !== undefined) owner?.clients.delete(current);
        current = client;
        owner?.clients.add(client);
        for (const kind of ['tools', 'prompts', 'resources'] as const) {
          client.setNotificationHandler(LIST_CHANGED[kind] as 'notifications/tools/list_changed', () => {
            if (kind === 'tools') link.tools = undefined;
            this.#listChanged(upstream, kind, ownerKey);
          });
        }
        if (product !== undefined && ownerKey !== undefined) installRelay(client, product, () => this.#owners.get(ownerKey), capabilities);
        rounds?.install(client);
      },
    };
  }

  /** Announces a list change of `upstream` to the products that serve it (a session's connection: its session only). */
  #listChanged(upstream: string, kind: ListKind, ownerKey: string | undefined): void {
    const session = ownerKey !== undefined && this.#owners.get(ownerKey)?.session === true;
    for (const product of this.#products) {
      if (!product.view.has(upstream)) continue;
      if (session && product.ownerKey !== ownerKey) continue;
      void announce(product.server, kind).catch(() => undefined);
    }
  }
}
