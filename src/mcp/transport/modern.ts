/**
 * @module mcp/transport/modern
 * The 2026-07-28 ("modern") side of `/mcp`: stateless requests that carry their protocol
 * version, client info and capabilities in `_meta`, mirrored in `MCP-Protocol-Version`,
 * `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` headers (spec: basic/transports/streamable-http
 * and basic/versioning of 2026-07-28).
 *
 * One long-lived engine serves every modern request (see `mcp/engine/v2-bind` for why this is
 * sound and how it is checked at start), through an {@link EngineLink} that gives each request
 * a fresh internal id. Per request: the standard headers and the tool's `Mcp-Param-*` headers
 * are checked against the body (400/-32020), the scope policy refuses out-of-scope calls (403)
 * before the engine sees the request, the engine's refusals made while the request is handed
 * over get their HTTP status (404/-32601 for an unknown method), and a client that closes the
 * response before the answer cancels the request: the handler's signal fires and nothing more
 * is written. No sessions, no GET stream, no resumption on this era: long-lived notifications
 * go to `subscriptions/listen` streams, which this endpoint serves itself (after the header
 * checks and the scope policy, never through the engine) with a {@link ListenHub}.
 */

import type { JSONRPCMessage, JSONRPCNotification, JSONRPCRequest, MessageClassification, MessageExtraInfo } from '@modelcontextprotocol/server';
import { WardenError } from '../../errors.js';
import { ANONYMOUS, type Principal } from '../../security/identity.js';
import type { Denial } from '../access.js';
import { assertModernEngine, bindModernEra, lowLevelServer } from '../engine/v2-bind.js';
import type { MessagePolicy } from '../policy.js';
import { MODERN_PROTOCOL_VERSIONS } from '../protocol-versions.js';
import type { ServerLike, SessionContext } from '../sessions.js';
import type { ChannelEnd } from './engine-link.js';
import { EngineLink } from './engine-link.js';
import { Exchange } from './exchange.js';
import type { ListenHub } from './listen.js';
import { checkParamHeaders, checkStandardHeaders, paramHeaderDeclarations, type HeaderRefusal, type ParamHeader } from './modern-headers.js';
import type { Accepts } from './negotiation.js';
import type { McpHttpRequest, McpHttpResponse } from './types.js';

const ACCEPTED: McpHttpResponse = Object.freeze({ kind: 'body', status: 202, headers: {}, body: undefined });
const NO_DECLARATIONS: readonly ParamHeader[] = Object.freeze([]);
/** Bound on the per-tool `x-mcp-header` cache (tool names come from clients; unknown tools are cached as empty too). */
const MAX_CACHED_TOOLS = 1024;

/** A modern request, classified by `mcp/era`. */
export interface ModernRoute {
  readonly messageKind: 'request' | 'notification';
  readonly message: JSONRPCRequest | JSONRPCNotification;
  readonly classification: MessageClassification;
}

export interface ModernEndpointOptions {
  readonly policy: MessagePolicy;
  /** Calls the server factory and hardens the product (the same as for 2025 engines). */
  readonly build: (context: SessionContext) => Promise<ServerLike>;
  readonly scopeChallenge?: ((principal: Principal, denial: Denial) => Record<string, string>) | undefined;
  /** Serves `subscriptions/listen`; it hears every change the engine announces. */
  readonly listen: ListenHub;
  readonly events?:
    | {
        scopeDenied?(ip: string, principal: Principal, tool: string): void;
        headerMismatch?(ip: string, principal: Principal, cell: string): void;
        /** Every modern request or notification handed to this endpoint (counters). */
        modernRequest?(): void;
      }
    | undefined;
}

/** Messages the modern engine sends outside any request (list changes, resource updates). */
export type UnrelatedListener = (message: JSONRPCMessage) => void;

class ModernChannel implements ChannelEnd {
  readonly sessionId = undefined;
  readonly listeners = new Set<UnrelatedListener>();
  unrelated(message: JSONRPCMessage): void {
    for (const listener of this.listeners) listener(message);
  }
  settled(): void {}
}

interface ToolSchemas {
  toolInputSchemaJson?(name: string): unknown;
}

export class ModernEndpoint {
  readonly #options: ModernEndpointOptions;
  #engine: { server: ServerLike; link: EngineLink; channel: ModernChannel; serverInfo: unknown } | undefined;
  readonly #declarations = new Map<string, readonly ParamHeader[]>();

  constructor(options: ModernEndpointOptions) {
    this.#options = options;
  }

  /**
   * Builds the one modern engine, binds it to 2026-07-28 and checks the binding with a
   * `server/discover` round trip (throws `ModernBindingError` when the SDK's shape moved).
   */
  async start(): Promise<void> {
    if (this.#engine !== undefined) return;
    const server = await this.#options.build({ sessionId: undefined, principal: ANONYMOUS, era: 'modern' });
    bindModernEra(server);
    const link = new EngineLink({ policy: this.#options.policy, modern: true });
    const channel = new ModernChannel();
    link.join(channel);
    // Tool definitions may change at run time: their x-mcp-header declarations are read again.
    channel.listeners.add((message) => {
      if ((message as { method?: string }).method === 'notifications/tools/list_changed') this.#declarations.clear();
    });
    // List changes and resource updates the engine announces go to the listen streams.
    channel.listeners.add((message) => this.#options.listen.engineMessage(message));
    await server.connect(link);
    const engine = { server, link, channel, serverInfo: undefined as unknown };
    this.#engine = engine;
    const exchange = new Exchange({ acceptJson: true, acceptSse: false, batch: false });
    exchange.expect();
    const version = MODERN_PROTOCOL_VERSIONS[0];
    link.request(
      channel,
      {
        jsonrpc: '2.0',
        id: 0,
        method: 'server/discover',
        params: { _meta: { 'io.modelcontextprotocol/protocolVersion': version, 'io.modelcontextprotocol/clientCapabilities': {} } },
      },
      exchange,
      { principal: ANONYMOUS, clientIp: '127.0.0.1', extra: { classification: { era: 'modern', revision: version } as MessageClassification }, modern: true },
    );
    const answer = await exchange.promise;
    const discovered: unknown = answer.kind === 'body' && answer.body !== undefined ? JSON.parse(answer.body) : answer;
    assertModernEngine(discovered);
    // The identity every modern result carries; the graceful end of a listen stream carries it too.
    engine.serverInfo = (discovered as { result?: { _meta?: Record<string, unknown> } }).result?._meta?.['io.modelcontextprotocol/serverInfo'];
  }

  /** Listens to what the engine sends outside requests; returns the unsubscribe function. */
  onUnrelated(listener: UnrelatedListener): () => void {
    const channel = this.#engine?.channel;
    if (channel === undefined) return () => undefined;
    channel.listeners.add(listener);
    return () => channel.listeners.delete(listener);
  }

  /** The engine's advertised capabilities (for `subscriptions/listen`), once started. */
  get server(): ServerLike | undefined {
    return this.#engine?.server;
  }

  /** Shutdown: ends every listen stream gracefully. */
  endStreams(): void {
    this.#options.listen.closeAll();
  }

  async close(): Promise<void> {
    this.#options.listen.closeAll();
    const engine = this.#engine;
    this.#engine = undefined;
    if (engine !== undefined) await engine.server.close();
  }

  /**
   * Ends the requests in flight whose caller `valid` no longer accepts at `now` (a revoked key,
   * an expired token), and cancels their work.
   */
  endRequestsOfEndedCredentials(valid: (principal: Principal, now: number) => boolean, now: number): void {
    this.#options.listen.endWhere((principal) => !valid(principal, now));
    this.#engine?.link.abortWhere((context) => !valid(context.principal, now), new WardenError('WARDEN_ERR_AUTH_INVALID', { reason: 'credential_ended' }));
  }

  handle(request: McpHttpRequest, route: ModernRoute, accepts: Accepts): McpHttpResponse | Promise<McpHttpResponse> {
    const engine = this.#engine;
    if (engine === undefined) return { kind: 'error', error: new WardenError('WARDEN_ERR_SHUTTING_DOWN', { reason: 'not_started' }) };
    this.#options.events?.modernRequest?.();
    const extra: MessageExtraInfo = { authInfo: request.authInfo, classification: route.classification };
    if (route.messageKind === 'notification') {
      // Cancellation on this era is closing the response stream; a posted notifications/cancelled
      // names ids of the shared engine that belong to other callers, so it is never forwarded.
      if (route.message.method !== 'notifications/cancelled') engine.link.other(engine.channel, route.message, extra);
      return ACCEPTED;
    }
    const message = route.message as JSONRPCRequest;
    const refused = checkStandardHeaders(request.headers, message.method, message.params) ?? this.#checkParams(engine.server, message, request.headers);
    if (refused !== undefined) return this.#mismatch(request, message, refused);
    const denied = this.#options.policy.refuse(request.principal, [message]);
    if (denied !== undefined) {
      this.#options.events?.scopeDenied?.(request.clientIp, request.principal, denied.kind === 'tool' ? denied.name : `operator:${denied.name}`);
      return {
        kind: 'error',
        error: new WardenError('WARDEN_ERR_INSUFFICIENT_SCOPE', {
          reason: denied.kind === 'tool' ? 'tool_scope' : 'operator_scope',
          headers: this.#options.scopeChallenge?.(request.principal, denied),
          rpc: { id: message.id },
        }),
      };
    }
    if (message.method === 'subscriptions/listen') return this.#listen(request, message, accepts, engine);
    const exchange = new Exchange({ acceptJson: accepts.json, acceptSse: accepts.sse, batch: false });
    exchange.expect();
    const internalId = engine.link.request(engine.channel, message, exchange, { principal: request.principal, clientIp: request.clientIp, extra, modern: true });
    request.onClose?.(() => engine.link.clientGone(internalId, extra));
    return exchange.promise;
  }

  /** `subscriptions/listen`: served by the hub, never by the engine (as both SDK entries do). */
  #listen(request: McpHttpRequest, message: JSONRPCRequest, accepts: Accepts, engine: { server: ServerLike; serverInfo: unknown }): McpHttpResponse {
    const policy = this.#options.policy;
    const principal = request.principal;
    return this.#options.listen.open({
      id: message.id,
      params: message.params,
      principal,
      acceptsSse: accepts.sse,
      capabilities: lowLevelServer(engine.server)?.getCapabilities(),
      serverInfo: engine.serverInfo,
      // The same scope rule as reading the resource (mcp/access): a URI it may not read is never announced.
      resourceAllowed: (uri) => policy.refuse(principal, [{ jsonrpc: '2.0', id: 0, method: 'resources/read', params: { uri } }]) === undefined,
    });
  }

  #checkParams(server: ServerLike, message: JSONRPCRequest, headers: McpHttpRequest['headers']): HeaderRefusal | undefined {
    if (message.method !== 'tools/call') return undefined;
    const params = message.params as { name?: unknown; arguments?: unknown } | undefined;
    const name = params?.name;
    if (typeof name !== 'string') return undefined;
    let declarations = this.#declarations.get(name);
    if (declarations === undefined) {
      const schema = (server as ToolSchemas).toolInputSchemaJson?.(name);
      const found = schema === undefined ? NO_DECLARATIONS : paramHeaderDeclarations(schema);
      declarations = found.length === 0 ? NO_DECLARATIONS : found;
      if (this.#declarations.size >= MAX_CACHED_TOOLS) this.#declarations.clear();
      this.#declarations.set(name, declarations);
    }
    return declarations.length === 0 ? undefined : checkParamHeaders(declarations, params?.arguments, headers);
  }

  #mismatch(request: McpHttpRequest, message: JSONRPCRequest, refused: HeaderRefusal): McpHttpResponse {
    this.#options.events?.headerMismatch?.(request.clientIp, request.principal, refused.cell);
    return {
      kind: 'error',
      error: new WardenError('WARDEN_ERR_HEADER_MISMATCH', { reason: refused.cell, rpc: { id: message.id, message: refused.message } }),
    };
  }
}
