/**
 * @module mcp/transport/engine-link
 * The SDK `Transport` a protocol engine (`McpServer`/`Server`) is connected to. One link per
 * engine: an engine per session, or one engine shared by every session (the built-in server,
 * stateless mode). Sessions talk to it through their {@link SessionChannel}.
 *
 * Every incoming request gets a fresh internal id before it reaches the engine, and its
 * response is routed back by that id to the HTTP exchange that carried it, with the client's
 * id restored. Two clients (or one careless client) using the same JSON-RPC id at the same
 * time can therefore never receive each other's answers: the failure class of
 * CVE-2026-25536, where a shared transport keyed responses by the client's id.
 *
 * The same care applies the other way: a request the engine sends to a client (sampling,
 * elicitation) belongs to the session it was sent to, and only that session's answer reaches
 * the engine. A shared engine sends nothing outside a request except list-change notifications
 * (which concern every session); anything else it cannot address is refused, never broadcast.
 */

import type { Transport, TransportSendOptions } from '@modelcontextprotocol/server';
import type { JSONRPCMessage, JSONRPCRequest, MessageExtraInfo, RequestId } from '@modelcontextprotocol/server';
import type { WardenError } from '../../errors.js';
import type { Principal } from '../../security/identity.js';
import type { CallContext, MessagePolicy } from '../policy.js';
import { RPC } from '../../wire-codes.js';
import type { Exchange } from './exchange.js';

const RESOLVED: Promise<void> = Promise.resolve();

/** What the link needs of a session channel. */
export interface ChannelEnd {
  readonly sessionId: string | undefined;
  /** A message the engine sent outside any request (list changes, logs): for the GET stream. */
  unrelated(message: JSONRPCMessage): void;
  /** The request with this client id has its answer (or was cancelled). */
  settled(clientId: RequestId, internalId: number): void;
}

interface Route {
  /** Modern-era request: errors the engine answers inside the dispatch window get their HTTP status. */
  readonly ladder: boolean;
  readonly exchange: Exchange;
  readonly clientId: RequestId;
  readonly context: CallContext;
  readonly onResponse: ((response: JSONRPCMessage) => void) | undefined;
  readonly channel: ChannelEnd;
}

/** Per-POST information passed along with the messages. */
export interface Delivery {
  readonly principal: Principal;
  readonly clientIp: string;
  readonly extra: MessageExtraInfo;
  /** Called with the (final) response to each request, before it is written. */
  readonly onResponse?: (response: JSONRPCMessage) => void;
  /**
   * A 2026-07-28 request: an error the engine sends while the request is being handed over
   * (before any handler runs: unknown method, bad envelope, era mismatch) is a refusal of the
   * request itself and gets its HTTP status (404 for -32601, 400 for the others), as the spec
   * and the SDK's per-request transport answer it; -32021 is always 400.
   */
  readonly modern?: boolean;
}

/** HTTP status of an engine refusal made while a modern request is handed over (SDK `LADDER_ERROR_HTTP_STATUS`). */
const LADDER_STATUS: Readonly<Record<number, number>> = {
  [RPC.PARSE_ERROR]: 400,
  [RPC.INVALID_REQUEST]: 400,
  [RPC.INVALID_PARAMS]: 400,
  [RPC.METHOD_NOT_FOUND]: 404,
  [RPC.UNSUPPORTED_PROTOCOL_VERSION]: 400,
  [RPC.MISSING_CLIENT_CAPABILITY]: 400,
  [RPC.HEADER_MISMATCH]: 400,
};

export class EngineLink implements Transport {
  /**
   * The session of the message being delivered. The protocol engine reads it synchronously
   * when a request arrives (it becomes the handler context's `ctx.sessionId`), so a shared engine sees each
   * request's own session.
   */
  sessionId: string | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  readonly #policy: MessagePolicy;
  readonly #routes = new Map<number, Route>();
  readonly #channels = new Set<ChannelEnd>();
  /** Requests the engine sent to a client, by id: the channel whose answer it waits for. */
  readonly #serverRequests = new Map<RequestId, ChannelEnd>();
  readonly #shared: boolean;
  readonly #modern: boolean;
  /** Internal id of the request being handed to the engine right now (the dispatch window). */
  #window = 0;
  #nextId = 1;
  #closed = false;

  /**
   * @param options.shared One engine for many sessions (or for stateless requests).
   * @param options.modern The engine serves the 2026-07-28 era: every notification it sends
   *   outside a request (list changes, resource updates) goes to the channels, which decide who
   *   subscribed to it.
   */
  constructor(options: { policy: MessagePolicy; shared?: boolean; modern?: boolean }) {
    this.#policy = options.policy;
    this.#shared = options.shared === true || options.modern === true;
    this.#modern = options.modern === true;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Registers a session channel (it receives messages sent outside requests). */
  join(channel: ChannelEnd): void {
    this.#channels.add(channel);
  }

  leave(channel: ChannelEnd, gone: WardenError): void {
    this.#channels.delete(channel);
    for (const [internalId, route] of this.#routes) {
      if (route.channel !== channel) continue;
      this.#routes.delete(internalId);
      route.exchange.abort(gone);
    }
    for (const [id, owner] of this.#serverRequests) if (owner === channel) this.#refuse(id, 'session closed');
  }

  start(): Promise<void> {
    return RESOLVED;
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if ('method' in message) {
      const related = options?.relatedRequestId;
      if ('id' in message) this.#sendRequest(message, related);
      else if (related !== undefined) {
        // Messages about a request go on that request's stream; the GET stream SHOULD carry
        // only messages unrelated to running requests (Streamable HTTP §listening for messages).
        this.#routes.get(related as number)?.exchange.event(message);
      } else if (!this.#shared || this.#modern) {
        for (const channel of this.#channels) channel.unrelated(message);
      } else if (message.method.endsWith('/list_changed')) {
        // A shared engine's tool, resource and prompt lists are every session's.
        for (const channel of this.#channels) channel.unrelated(message);
      }
      // Other messages of a shared engine outside a request (logs) have no known recipient: dropped.
      return RESOLVED;
    }
    const internalId = message.id as number;
    const route = this.#routes.get(internalId);
    // No route: the exchange was aborted (session closed) or the request was cancelled.
    if (route === undefined) return RESOLVED;
    this.#routes.delete(internalId);
    route.channel.settled(route.clientId, internalId);
    const response = this.#policy.finish(route.context, { ...message, id: route.clientId } as JSONRPCMessage);
    route.onResponse?.(response);
    let status: number | undefined;
    if (route.ladder && 'error' in response) {
      const code = (response as { error: { code: number } }).error.code;
      if (this.#window === internalId || code === RPC.MISSING_CLIENT_CAPABILITY) status = LADDER_STATUS[code];
    }
    route.exchange.respond(response, status);
    return RESOLVED;
  }

  /** Hands one request to the engine; returns its internal id. */
  request(channel: ChannelEnd, request: JSONRPCRequest, exchange: Exchange, delivery: Delivery): number {
    const context: CallContext = {
      method: request.method,
      request,
      principal: delivery.principal,
      sessionId: channel.sessionId,
      clientIp: delivery.clientIp,
      startedAt: performance.now(),
    };
    const internalId = this.#nextId++;
    const ladder = delivery.modern === true;
    this.#routes.set(internalId, { ladder, exchange, clientId: request.id, context, onResponse: delivery.onResponse, channel });
    this.sessionId = channel.sessionId;
    if (!ladder) {
      this.onmessage?.({ ...request, id: internalId }, delivery.extra);
      return internalId;
    }
    this.#window = internalId;
    try {
      this.onmessage?.({ ...request, id: internalId }, delivery.extra);
    } finally {
      this.#window = 0;
    }
    return internalId;
  }

  /**
   * The client went away before its answer (a modern request's response stream closed: the
   * spec's cancellation): the engine is told the request was cancelled, so the handler's abort
   * signal fires, and the route is dropped, so nothing more is written for it.
   */
  clientGone(internalId: number, extra: MessageExtraInfo): void {
    const route = this.#routes.get(internalId);
    if (route === undefined) return;
    this.#routes.delete(internalId);
    route.channel.settled(route.clientId, internalId);
    this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: internalId, reason: 'client closed the response stream' } }, extra);
  }

  /** Hands a notification or a client's response to the engine. */
  other(channel: ChannelEnd, message: JSONRPCMessage, extra: MessageExtraInfo): void {
    if (!('method' in message)) {
      // A client's answer reaches the engine only from the session the request was sent to.
      const id = (message as { id: RequestId }).id;
      if (this.#serverRequests.get(id) !== channel) return;
      this.#serverRequests.delete(id);
    }
    this.sessionId = channel.sessionId;
    this.onmessage?.(message, extra);
  }

  /**
   * Ends the requests in flight that `ended` picks (their caller's credential ended): each
   * exchange is aborted with `gone` (its stream ends) and the engine is told the request was
   * cancelled, so the handler's abort signal fires and its work stops.
   */
  abortWhere(ended: (context: CallContext) => boolean, gone: WardenError): void {
    for (const [internalId, route] of this.#routes) {
      if (!ended(route.context)) continue;
      this.#routes.delete(internalId);
      route.channel.settled(route.clientId, internalId);
      this.sessionId = route.channel.sessionId;
      this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: internalId, reason: 'credential ended' } });
      route.exchange.abort(gone);
    }
  }

  /** Ends a request the client cancelled: the engine sends nothing, so its exchange is answered here. */
  cancelled(internalId: number, answer: (clientId: RequestId) => JSONRPCMessage): void {
    const route = this.#routes.get(internalId);
    if (route === undefined) return;
    this.#routes.delete(internalId);
    route.channel.settled(route.clientId, internalId);
    route.exchange.respond(answer(route.clientId));
  }

  /** A request from the engine to a client: delivered to one session, or refused at once. */
  #sendRequest(message: JSONRPCMessage, related: RequestId | undefined): void {
    const id = (message as { id: RequestId }).id;
    const route = related === undefined ? undefined : this.#routes.get(related as number);
    let owner: ChannelEnd | undefined;
    if (route !== undefined) owner = route.channel;
    else if (!this.#shared) owner = this.#channels.values().next().value;
    // Without a session there is no way to tell who answers (stateless), so nobody may.
    if (owner === undefined || owner.sessionId === undefined) {
      this.#refuse(id, 'no session to send this request to');
      return;
    }
    this.#serverRequests.set(id, owner);
    const delivered = route !== undefined ? route.exchange.event(message) : (owner.unrelated(message), true);
    if (!delivered) this.#refuse(id, 'the client cannot receive requests on this stream');
  }

  /** Answers a request of the engine with an error, so it does not wait for a reply that cannot come. */
  #refuse(id: RequestId, reason: string): void {
    this.#serverRequests.delete(id);
    queueMicrotask(() => this.onmessage?.({ jsonrpc: '2.0', id, error: { code: RPC.SERVER_ERROR, message: reason } } as JSONRPCMessage));
  }

  close(): Promise<void> {
    if (this.#closed) return RESOLVED;
    this.#closed = true;
    this.onclose?.();
    return RESOLVED;
  }
}
