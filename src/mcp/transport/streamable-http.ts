/**
 * @module mcp/transport/streamable-http
 * The Streamable HTTP transport (MCP 2025-03-26 … 2025-11-25, "Transports"), written against
 * {@link McpHttpRequest} rather than Node's or the web's request objects: POST carries JSON-RPC
 * messages, GET opens the session's server-to-client stream, DELETE ends the session.
 *
 * Sessions: created by a successful `initialize`, identified by a CSPRNG UUID, bound to the
 * principal that created it (another principal presenting the id gets 404, as for an unknown id).
 */

import { randomUUID } from 'node:crypto';
import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/server';
import { WardenError } from '../../errors.js';
import { RPC } from '../../wire-codes.js';
import { ANONYMOUS, type Principal } from '../../security/identity.js';
import { classifyMessage, type MessageKind } from '../jsonrpc.js';
import type { Denial } from '../access.js';
import type { MessagePolicy } from '../policy.js';
import {
  DEFAULT_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  allowsBatching,
  isSupportedProtocolVersion,
  negotiateProtocolVersion,
  type ProtocolVersion,
} from '../protocol-versions.js';
import type { SessionSharing } from '../../shared-state/session-sharing.js';
import { hardenToolErrors } from '../harden.js';
import type { LiveSession, ServerFactory, ServerLike, SessionContext, SessionRegistry } from '../sessions.js';
import type { SessionMeta } from '../../store/types.js';
import { Exchange } from './exchange.js';
import type { EventRecorder } from './sse.js';
import { SSE_HEADERS, fail, type McpHttpRequest, type McpHttpResponse } from './types.js';
import { isJsonContentType, parseAccept, type Accepts } from './negotiation.js';
import { resumeStream, type ResumeStores } from './resume.js';
import { EngineLink } from './engine-link.js';
import { SessionChannel } from './session-channel.js';
import { classifyEra } from '../era.js';
import { ModernEndpoint } from './modern.js';
import { ListenHub } from './listen.js';

/** Messages a JSON-RPC batch may hold; a larger one is refused (400) before any of them runs. */
export const DEFAULT_MAX_BATCH = 100;
const ACCEPTED: McpHttpResponse = Object.freeze({ kind: 'body', status: 202, headers: {}, body: undefined });
const NO_CONTENT: McpHttpResponse = Object.freeze({ kind: 'body', status: 204, headers: {}, body: undefined });

export interface StreamableHttpOptions {
  readonly factory: ServerFactory;
  readonly policy: MessagePolicy;
  /** Headers for a 403 insufficient_scope answer (e.g. the Bearer challenge naming the scope). */
  readonly scopeChallenge?: (principal: Principal, denial: Denial) => Record<string, string>;
  /**
   * Recent SSE events for `Last-Event-ID` resumption: `local` answers synchronously (streams
   * of this process), `shared` (optional) serves streams of other replicas.
   */
  readonly eventStore?: ResumeStores | undefined;
  /** Shares sessions between replicas (metadata store, bus); absent = this process only. */
  readonly sharing?: SessionSharing | undefined;
  /** Told about refused tool calls, new sessions and tool handlers that threw (counters, audit, log). */
  readonly events?: {
    toolThrew?(message: string): void;
    scopeDenied?(ip: string, principal: Principal, tool: string): void;
    sessionCreated?(ip: string, principal: Principal, sessionId: string): void;
    /** A modern request whose headers disagreed with its body (`cell` names which). */
    headerMismatch?(ip: string, principal: Principal, cell: string): void;
    /** A request reached the 2026-07-28 side. */
    modernRequest?(): void;
  };
  /** Live sessions; required unless `stateless`. */
  readonly sessions?: SessionRegistry;
  readonly stateless?: boolean;
  /**
   * One engine from the factory serves every session (the factory is called once). Sessions
   * then cost a channel (~1 KB), not an engine (~40 KB); per-session engine state (client
   * capabilities) is not kept apart, so only for servers that do not use it (the built-in one).
   */
  readonly shareEngine?: boolean;
  readonly maxBatch?: number;
  /** Clock for session timestamps and GET-stream lifetimes (default `Date.now`). */
  readonly now?: () => number;
  /** The `subscriptions/listen` streams (default: this process only, session-cap defaults). */
  readonly listen?: ListenHub;
  /**
   * The path this handler serves (default `/mcp`). Handlers may share one session registry
   * (the gateway's `/mcp/<upstream>` paths): a session is usable only on the path that opened
   * it (elsewhere 404, as for an unknown id).
   */
  readonly endpoint?: string;
}

/** Caps of the default listen hub: the session caps' defaults. */
const DEFAULT_LISTEN_CAPS = { maxStreams: 10_000, maxPerPrincipal: 1000 } as const;

type Parsed =
  | { readonly ok: true; readonly messages: readonly JSONRPCMessage[]; readonly kinds: readonly MessageKind[]; readonly batch: boolean }
  | { readonly ok: false; readonly response: McpHttpResponse };

export class StreamableHttpHandler {
  readonly #factory: ServerFactory;
  readonly #policy: MessagePolicy;
  readonly #sessions: SessionRegistry | undefined;
  readonly #stateless: boolean;
  readonly #maxBatch: number;
  readonly #scopeChallenge: StreamableHttpOptions['scopeChallenge'];
  readonly #events: StreamableHttpOptions['events'];
  readonly #sharing: SessionSharing | undefined;
  readonly #eventStore: StreamableHttpOptions['eventStore'];
  readonly #recorder: EventRecorder | undefined;
  /** Sessions being rebuilt from shared metadata, so concurrent requests share one rebuild. */
  readonly #rebuilding = new Map<string, Promise<LiveSession | McpHttpResponse>>();
  readonly #shareEngine: boolean;
  /** The engine shared by all sessions (shareEngine) or all requests (stateless). */
  #engine: { server: ServerLike; link: EngineLink } | undefined;
  #statelessChannel: SessionChannel | undefined;
  readonly #now: () => number;
  readonly #endpoint: string;
  /** The 2026-07-28 side of the endpoint (one long-lived engine, no sessions). */
  readonly modern: ModernEndpoint;
  /** The `subscriptions/listen` streams of the modern side. */
  readonly listen: ListenHub;

  constructor(options: StreamableHttpOptions) {
    this.#factory = options.factory;
    this.#policy = options.policy;
    this.#stateless = options.stateless === true;
    this.#shareEngine = options.shareEngine === true || this.#stateless;
    this.#sessions = options.sessions;
    this.#maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    this.#scopeChallenge = options.scopeChallenge;
    this.#events = options.events;
    this.#sharing = options.sharing;
    this.#eventStore = options.eventStore;
    this.#now = options.now ?? Date.now;
    this.#endpoint = options.endpoint ?? '/mcp';
    const stores = options.eventStore === undefined ? [] : [options.eventStore.local, ...(options.eventStore.shared === undefined ? [] : [options.eventStore.shared])];
    this.#recorder =
      stores.length === 0
        ? undefined
        : {
            append: (streamId, seq, data) => {
              for (const store of stores) store.append(streamId, seq, data);
            },
            end: (streamId) => {
              for (const store of stores) store.end(streamId);
            },
          };
    if (!this.#stateless && this.#sessions === undefined) throw new Error('a session registry is required unless stateless');
    this.listen = options.listen ?? new ListenHub(DEFAULT_LISTEN_CAPS);
    this.modern = new ModernEndpoint({
      policy: this.#policy,
      build: (context) => this.#build(context),
      scopeChallenge: this.#scopeChallenge,
      listen: this.listen,
      events: this.#events,
    });
    const sessions = this.#sessions;
    if (this.#sharing !== undefined && sessions !== undefined) {
      const sharing = this.#sharing;
      this.#sharing.onRemoteClose((id) => {
        sharing.forget(id);
        void sessions.close(id, 'deleted');
      });
      this.#sharing.onRemoteStream((id, message) => sessions.peek(id)?.channel.pushStandalone(message));
    }
  }

  get stateless(): boolean {
    return this.#stateless;
  }

  /** Builds the modern engine, and the shared 2025 engine (stateless mode, or shareEngine). */
  async start(): Promise<void> {
    await this.modern.start();
    if (!this.#shareEngine || this.#engine !== undefined) return;
    const server = await this.#build({ sessionId: undefined, principal: ANONYMOUS, era: 'legacy' });
    const link = new EngineLink({ policy: this.#policy, shared: true });
    await server.connect(link);
    this.#engine = { server, link };
    if (this.#stateless) this.#statelessChannel = new SessionChannel({ sessionId: undefined, link });
  }

  /**
   * Drops what a shared engine keeps per session id once the session is gone: the SDK server
   * records each session's `logging/setLevel` in a private map (`_loggingLevels`) it never prunes (SDK 1.32 and 2.4; test/mcp/sdk-v2.test.ts checks the field).
   */
  forgetSession(sessionId: string): void {
    const engine = this.#engine?.server as { server?: { _loggingLevels?: Map<unknown, unknown> } } | undefined;
    engine?.server?._loggingLevels?.delete(sessionId);
  }

  /** Closes every session, then the shared engine. */
  async close(): Promise<void> {
    await this.#sessions?.closeAll();
    await this.modern.close();
    if (this.#engine !== undefined) {
      await this.#engine.server.close();
      this.#engine = undefined;
    }
  }

  /**
   * Stateless mode has no session to close when a credential ends: ends the requests in flight
   * (streams included) whose caller `valid` no longer accepts at `now`, and cancels their work.
   */
  endRequestsOfEndedCredentials(valid: (principal: Principal, now: number) => boolean, now: number): void {
    this.modern.endRequestsOfEndedCredentials(valid, now);
    this.#statelessChannel?.link.abortWhere((context) => !valid(context.principal, now), new WardenError('WARDEN_ERR_AUTH_INVALID', { reason: 'credential_ended' }));
  }

  /**
   * Scope check of a modern request from its headers alone (`Mcp-Method`, decoded `Mcp-Name`),
   * before its body is read: the refusal (reason and challenge headers) when the caller may not
   * use that tool, prompt or resource. Records the refusal like the body-based one.
   */
  headerDenial(principal: Principal, clientIp: string, method: string, name: string): { reason: string; headers: Record<string, string> | undefined } | undefined {
    const params = method === 'resources/read' ? { uri: name } : method === 'tools/call' || method === 'prompts/get' ? { name } : undefined;
    if (params === undefined) return undefined;
    const denied = this.#policy.refuse(principal, [{ jsonrpc: '2.0', id: 0, method, params }]);
    if (denied === undefined) return undefined;
    this.#events?.scopeDenied?.(clientIp, principal, denied.kind === 'tool' ? denied.name : `operator:${denied.name}`);
    return { reason: denied.kind === 'tool' ? 'tool_scope' : 'operator_scope', headers: this.#scopeChallenge?.(principal, denied) };
  }

  handle(request: McpHttpRequest): McpHttpResponse | Promise<McpHttpResponse> {
    switch (request.method) {
      case 'POST':
        return this.#post(request);
      case 'GET':
        return this.#get(request);
      case 'DELETE':
        return this.#delete(request);
      default:
        return fail('WARDEN_ERR_METHOD_NOT_ALLOWED', 'method', { allow: this.#stateless ? 'POST' : 'GET, POST, DELETE' });
    }
  }

  #post(request: McpHttpRequest): McpHttpResponse | Promise<McpHttpResponse> {
    if (!isJsonContentType(request.contentType)) return fail('WARDEN_ERR_UNSUPPORTED_MEDIA_TYPE', 'content_type');
    const accepts = parseAccept(request.accept);
    if (!accepts.json && !accepts.sse) return fail('WARDEN_ERR_NOT_ACCEPTABLE', 'accept');
    // The era is chosen by how the client opens (2026-07-28 basic/versioning): a request
    // carrying its version in _meta is modern, initialize and session traffic are 2025-era.
    const era = classifyEra({ httpMethod: 'POST', headers: request.headers, body: request.body });
    if (era.era === 'modern') return this.modern.handle(request, era, accepts);
    if (era.era === 'reject') {
      return {
        kind: 'error',
        error: new WardenError(era.code === RPC.HEADER_MISMATCH ? 'WARDEN_ERR_HEADER_MISMATCH' : era.code === RPC.UNSUPPORTED_PROTOCOL_VERSION ? 'WARDEN_ERR_UNSUPPORTED_VERSION' : era.code === RPC.INVALID_PARAMS ? 'WARDEN_ERR_INVALID_ENVELOPE' : 'WARDEN_ERR_INVALID_REQUEST', {
          reason: era.cell,
          rpc: { id: echoableId(request.body), message: era.message, data: era.data },
        }),
      };
    }
    const parsed = this.#parse(request.body);
    if (!parsed.ok) return parsed.response;
    const { messages, kinds, batch } = parsed;
    const denied = this.#policy.refuse(request.principal, messages);
    if (denied !== undefined) {
      this.#events?.scopeDenied?.(request.clientIp, request.principal, denied.kind === 'tool' ? denied.name : `operator:${denied.name}`);
      return fail('WARDEN_ERR_INSUFFICIENT_SCOPE', denied.kind === 'tool' ? 'tool_scope' : 'operator_scope', this.#scopeChallenge?.(request.principal, denied));
    }
    const initIndex = messages.findIndex((message, index) => kinds[index] === 'request' && (message as JSONRPCRequest).method === 'initialize');

    if (this.#stateless) {
      const version = this.#headerVersion(request.protocolVersion);
      if (version === undefined) return unsupportedVersion(request.protocolVersion as string);
      if (batch && (initIndex !== -1 || !allowsBatching(version))) return fail('WARDEN_ERR_BATCH_UNSUPPORTED', 'batch');
      const channel = this.#statelessChannel;
      if (channel === undefined) return fail('WARDEN_ERR_SHUTTING_DOWN', 'not_started');
      const list = initIndex === -1 ? messages : [negotiate(messages[0] as JSONRPCRequest)];
      return this.#dispatch(channel, list, kinds, batch, accepts, request);
    }

    if (initIndex !== -1) {
      // initialize MUST NOT be part of a JSON-RPC batch (lifecycle §initialization).
      if (batch) return fail('WARDEN_ERR_INVALID_REQUEST', 'initialize_in_batch');
      if (request.sessionId !== undefined) return fail('WARDEN_ERR_ALREADY_INITIALIZED', 'initialize_in_session');
      return this.#initialize(messages[0] as JSONRPCRequest, accepts, request);
    }
    return this.#withSession(request, (session) => {
      if (batch && !allowsBatching(session.protocolVersion)) return fail('WARDEN_ERR_BATCH_UNSUPPORTED', 'batch');
      // Notifications alone (notifications/initialized) are part of starting up, not use.
      if (kinds.includes('request')) session.used = true;
      return this.#dispatch(session.channel, messages, kinds, batch, accepts, request);
    });
  }

  #get(request: McpHttpRequest): McpHttpResponse | Promise<McpHttpResponse> {
    if (this.#stateless) return fail('WARDEN_ERR_METHOD_NOT_ALLOWED', 'stateless_get', { allow: 'POST' });
    if (!parseAccept(request.accept).sse) return fail('WARDEN_ERR_NOT_ACCEPTABLE', 'accept');
    return this.#withSession(request, (session) => {
      session.used = true;
      if (request.lastEventId !== undefined && this.#eventStore !== undefined) return resumeStream(session, request.lastEventId, this.#eventStore);
      const stream = session.channel.openStandalone();
      if (stream === undefined) return fail('WARDEN_ERR_STREAM_CONFLICT', 'second_get_stream');
      return {
        kind: 'stream',
        status: 200,
        headers: { ...SSE_HEADERS, 'mcp-session-id': session.id },
        attach: (sink) => stream.attach(sink),
      };
    });
  }

  async #delete(request: McpHttpRequest): Promise<McpHttpResponse> {
    if (this.#stateless) return fail('WARDEN_ERR_METHOD_NOT_ALLOWED', 'stateless_delete', { allow: 'POST' });
    const sessions = this.#sessions as SessionRegistry;
    const local = request.sessionId === undefined ? undefined : sessions.peek(request.sessionId);
    if (local === undefined && this.#sharing !== undefined && request.sessionId !== undefined) {
      // Held by another replica (or nowhere): check ownership from the shared metadata, end it everywhere.
      const meta = await this.#sharing.lookup(request.sessionId);
      const refused = this.#checkOwner(request, meta);
      if (refused !== undefined) return refused;
      await this.#sharing.ended(request.sessionId);
      return NO_CONTENT;
    }
    const session = this.#session(request);
    const found = session instanceof Promise ? await session : session;
    if (!('channel' in found)) return found;
    await sessions.close(found.id, 'deleted');
    await this.#sharing?.ended(found.id);
    return NO_CONTENT;
  }

  #parse(body: unknown): Parsed {
    const batch = Array.isArray(body);
    const messages = (batch ? body : [body]) as unknown[];
    if (messages.length === 0) return { ok: false, response: fail('WARDEN_ERR_INVALID_REQUEST', 'empty_batch') };
    if (messages.length > this.#maxBatch) return { ok: false, response: fail('WARDEN_ERR_BATCH_TOO_LARGE', 'batch_size') };
    const kinds: MessageKind[] = new Array(messages.length);
    for (let index = 0; index < messages.length; index++) {
      const kind = classifyMessage(messages[index]);
      if (kind === undefined) return { ok: false, response: fail('WARDEN_ERR_INVALID_REQUEST', 'not_jsonrpc') };
      kinds[index] = kind;
    }
    return { ok: true, messages: messages as JSONRPCMessage[], kinds, batch };
  }

  /** The version named by the header, the default when absent, undefined when unsupported. */
  #headerVersion(header: string | undefined): ProtocolVersion | undefined {
    if (header === undefined) return DEFAULT_PROTOCOL_VERSION;
    return isSupportedProtocolVersion(header) ? header : undefined;
  }

  /** Runs `use` with the caller's session (local, or rebuilt from shared metadata), or answers the error. */
  #withSession(
    request: McpHttpRequest,
    use: (session: LiveSession) => McpHttpResponse | Promise<McpHttpResponse>,
  ): McpHttpResponse | Promise<McpHttpResponse> {
    const found = this.#session(request);
    if (found instanceof Promise) return found.then((session) => ('channel' in session ? use(session) : session));
    return 'channel' in found ? use(found) : found;
  }

  /** The caller's session, or the error answer (400 without id, 404 unknown/foreign, 400 bad version). */
  #session(request: McpHttpRequest): LiveSession | McpHttpResponse | Promise<LiveSession | McpHttpResponse> {
    if (request.sessionId === undefined) return fail('WARDEN_ERR_SESSION_REQUIRED', 'no_session_id');
    const sessions = this.#sessions as SessionRegistry;
    const session = sessions.peek(request.sessionId);
    if (session === undefined) return this.#sharing === undefined ? fail('WARDEN_ERR_SESSION_NOT_FOUND', 'unknown_session') : this.#remoteSession(request, request.sessionId);
    const refused = this.#checkOwner(request, session);
    if (refused !== undefined) return refused;
    // Only the owner's use keeps a session alive: a stolen id cannot hold it open.
    sessions.touch(session);
    // The session lives as long as the credential its owner last presented (a refreshed token extends it).
    session.credentialExpiresAt = request.principal.expiresAt;
    this.#sharing?.used(session.id);
    return session;
  }

  /**
   * 404 for an unknown or foreign session, 400 for an unsupported version header. A supported
   * version other than the negotiated one is accepted (as the SDK's server does; the spec asks
   * for 400 only on an invalid or unsupported version, transports §protocol version header).
   */
  #checkOwner(request: McpHttpRequest, session: { principalId: string; protocolVersion: string; endpoint?: string | undefined } | undefined): McpHttpResponse | undefined {
    if (session === undefined) return fail('WARDEN_ERR_SESSION_NOT_FOUND', 'unknown_session');
    // Same answer as an unknown id: a stolen session id must not even be confirmed to exist.
    if (session.principalId !== request.principal.id) return fail('WARDEN_ERR_SESSION_NOT_FOUND', 'foreign_session');
    // A session serves the path that opened it (another path would be another server).
    if ((session.endpoint ?? '/mcp') !== this.#endpoint) return fail('WARDEN_ERR_SESSION_NOT_FOUND', 'foreign_endpoint');
    const header = request.protocolVersion;
    if (header !== undefined && !isSupportedProtocolVersion(header)) return unsupportedVersion(header);
    return undefined;
  }

  /** A session another replica created: checked against the shared metadata, then rebuilt here. */
  async #remoteSession(request: McpHttpRequest, id: string): Promise<LiveSession | McpHttpResponse> {
    const meta = await (this.#sharing as SessionSharing).lookup(id);
    const refused = this.#checkOwner(request, meta);
    if (refused !== undefined || meta === undefined) return refused ?? fail('WARDEN_ERR_SESSION_NOT_FOUND', 'unknown_session');
    let pending = this.#rebuilding.get(id);
    if (pending === undefined) {
      pending = this.#rebuild(meta, request).finally(() => this.#rebuilding.delete(id));
      this.#rebuilding.set(id, pending);
    }
    return pending;
  }

  /**
   * Rebuilds a session from its metadata: a new engine, initialized privately with the client's
   * original initialize parameters, so it behaves as the one on the replica that created it.
   */
  async #rebuild(meta: SessionMeta, request: McpHttpRequest): Promise<LiveSession | McpHttpResponse> {
    const sessions = this.#sessions as SessionRegistry;
    const existing = sessions.peek(meta.id);
    if (existing !== undefined) return existing;
    if (!sessions.reserve(meta.principalId)) return fail('WARDEN_ERR_TOO_MANY_SESSIONS', 'session_cap', { 'retry-after': '30' });
    let added = false;
    try {
      const base = {
        id: meta.id,
        principalId: meta.principalId,
        principalKind: request.principal.kind,
        protocolVersion: meta.protocolVersion as ProtocolVersion,
        createdAt: meta.createdAt,
        lastSeen: sessions.now(),
        // It is being used (on this replica now, and before on the one that created it).
        used: true,
        credentialExpiresAt: request.principal.expiresAt,
        endpoint: this.#endpoint,
      };
      if (this.#engine !== undefined) {
        // A shared engine keeps no per-session state: the session needs only its channel here.
        const live: LiveSession = { ...base, channel: this.#newChannel(meta.id, this.#engine.link), server: undefined };
        sessions.add(live);
        added = true;
        return live;
      }
      const link = new EngineLink({ policy: this.#policy });
      const server = await this.#build({ sessionId: meta.id, principal: request.principal, era: 'legacy' });
      await server.connect(link);
      const channel = this.#newChannel(meta.id, link);
      const delivery = { principal: request.principal, clientIp: request.clientIp, extra: { authInfo: request.authInfo } };
      const exchange = new Exchange({ acceptJson: true, acceptSse: false, batch: false });
      const initialize = {
        jsonrpc: '2.0' as const,
        id: 0,
        method: 'initialize',
        params: { protocolVersion: meta.protocolVersion, capabilities: meta.clientCapabilities ?? {}, clientInfo: meta.clientInfo ?? { name: 'unknown', version: '0' } },
      };
      channel.deliver([initialize], ['request'], exchange, delivery);
      const answer = await exchange.promise;
      if (answer.kind !== 'body' || answer.body === undefined || !answer.body.includes('"result"')) {
        channel.close();
        await server.close();
        return { kind: 'error', error: new WardenError('WARDEN_ERR_INTERNAL', { reason: 'session_rebuild' }) };
      }
      channel.deliver([{ jsonrpc: '2.0', method: 'notifications/initialized' }], ['notification'], undefined, delivery);
      const live: LiveSession = { ...base, channel, server };
      sessions.add(live);
      added = true;
      return live;
    } catch (cause) {
      return { kind: 'error', error: new WardenError('WARDEN_ERR_INTERNAL', { reason: 'session_rebuild', cause }) };
    } finally {
      sessions.release(meta.principalId, added);
    }
  }

  /** Calls the factory and keeps thrown tool errors' messages away from clients. */
  async #build(context: SessionContext): Promise<ServerLike> {
    const server = await this.#factory(context);
    return hardenToolErrors(server, (message) => this.#events?.toolThrew?.(message));
  }

  #newChannel(id: string, link: EngineLink): SessionChannel {
    const sharing = this.#sharing;
    return new SessionChannel({
      sessionId: id,
      link,
      relay: sharing === undefined ? undefined : (message) => sharing.relay(id, message),
      recorder: this.#recorder,
      now: this.#now,
    });
  }

  async #initialize(message: JSONRPCRequest, accepts: Accepts, request: McpHttpRequest): Promise<McpHttpResponse> {
    const sessions = this.#sessions as SessionRegistry;
    const principalId = request.principal.id;
    if (!sessions.reserve(principalId)) return fail('WARDEN_ERR_TOO_MANY_SESSIONS', 'session_cap', { 'retry-after': '30' });
    const id = randomUUID();
    let server: ServerLike | undefined;
    let link: EngineLink;
    if (this.#engine !== undefined) {
      link = this.#engine.link;
    } else {
      link = new EngineLink({ policy: this.#policy });
      try {
        server = await this.#build({ sessionId: id, principal: request.principal, era: 'legacy' });
        await server.connect(link);
      } catch (cause) {
        sessions.release(principalId, false);
        return { kind: 'error', error: new WardenError('WARDEN_ERR_INTERNAL', { reason: 'server_factory', cause }) };
      }
    }
    const channel = this.#newChannel(id, link);
    const negotiated = negotiate(message);
    const params = negotiated.params as { protocolVersion: ProtocolVersion; capabilities?: unknown; clientInfo?: unknown };
    let shared: Promise<void> | undefined;
    const exchange = new Exchange({ acceptJson: accepts.json, acceptSse: accepts.sse, batch: false, openStream: () => channel.newStream() });
    exchange.headers['mcp-session-id'] = id;
    if (!accepts.json) exchange.streamNow();
    channel.deliver([negotiated], ['request'], exchange, {
      principal: request.principal,
      clientIp: request.clientIp,
      extra: { authInfo: request.authInfo },
      onResponse: (response) => {
        const result = 'result' in response ? (response.result as { protocolVersion?: unknown }) : undefined;
        sessions.release(principalId, result !== undefined && !channel.closed);
        if (result === undefined || channel.closed) {
          delete exchange.headers['mcp-session-id'];
          channel.close();
          void server?.close().catch(() => undefined);
          return;
        }
        const version = typeof result.protocolVersion === 'string' && isSupportedProtocolVersion(result.protocolVersion) ? result.protocolVersion : params.protocolVersion;
        const now = sessions.now();
        sessions.add({
          id,
          principalId: request.principal.id,
          principalKind: request.principal.kind,
          protocolVersion: version,
          createdAt: now,
          lastSeen: now,
          used: false,
          credentialExpiresAt: request.principal.expiresAt,
          endpoint: this.#endpoint,
          channel,
          server,
        });
        shared = this.#sharing?.created({
          id,
          principalId: request.principal.id,
          protocolVersion: version,
          clientInfo: params.clientInfo,
          clientCapabilities: params.capabilities,
          createdAt: now,
        });
        this.#events?.sessionCreated?.(request.clientIp, request.principal, id);
      },
    });
    const response = await exchange.promise;
    // Answer only once other replicas can find the session (the client may go to any of them next).
    if (shared !== undefined) await shared;
    return response;
  }

  #dispatch(
    channel: SessionChannel,
    messages: readonly JSONRPCMessage[],
    kinds: readonly MessageKind[],
    batch: boolean,
    accepts: Accepts,
    request: McpHttpRequest,
  ): McpHttpResponse | Promise<McpHttpResponse> {
    const delivery = { principal: request.principal, clientIp: request.clientIp, extra: { authInfo: request.authInfo } };
    if (!kinds.includes('request')) {
      channel.deliver(messages, kinds, undefined, delivery);
      return ACCEPTED;
    }
    const exchange = new Exchange({ acceptJson: accepts.json, acceptSse: accepts.sse, batch, openStream: () => channel.newStream() });
    if (channel.sessionId !== undefined) exchange.headers['mcp-session-id'] = channel.sessionId;
    if (!accepts.json) exchange.streamNow();
    channel.deliver(messages, kinds, exchange, delivery);
    return exchange.promise;
  }
}

/** The id of a single JSON-RPC request body, when it is a valid id (the spec's refusals echo it). */
function echoableId(body: unknown): string | number | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const id = (body as { id?: unknown }).id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)) ? id : null;
}

/** The initialize request with a protocol version we serve (the engine echoes what it is given). */
function negotiate(message: JSONRPCRequest): JSONRPCRequest {
  const params = (message.params ?? {}) as Record<string, unknown>;
  return { ...message, params: { ...params, protocolVersion: negotiateProtocolVersion(params['protocolVersion']) } };
}

/**
 * 400 naming the unsupported version (only when it is shaped like one: other input is never
 * echoed) and the versions this server supports.
 */
function unsupportedVersion(header: string): McpHttpResponse {
  const named = /^\d{4}-\d{2}-\d{2}$/.test(header) ? header : '(not a version)';
  return {
    kind: 'error',
    error: new WardenError('WARDEN_ERR_PROTOCOL_VERSION', {
      reason: 'unsupported_version',
      detail: `${named}; supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
    }),
  };
}
