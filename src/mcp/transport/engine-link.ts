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
 */

import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, JSONRPCRequest, MessageExtraInfo, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { WardenError } from '../../errors.js';
import type { Principal } from '../../security/api-keys.js';
import type { CallContext, MessagePolicy } from '../policy.js';
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
}

export class EngineLink implements Transport {
  /**
   * The session of the message being delivered. The protocol engine reads it synchronously
   * when a request arrives (it becomes `extra.sessionId`), so a shared engine sees each
   * request's own session.
   */
  sessionId: string | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  readonly #policy: MessagePolicy;
  readonly #routes = new Map<number, Route>();
  readonly #channels = new Set<ChannelEnd>();
  #nextId = 1;
  #closed = false;

  constructor(options: { policy: MessagePolicy }) {
    this.#policy = options.policy;
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
  }

  start(): Promise<void> {
    return RESOLVED;
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if ('method' in message) {
      const related = options?.relatedRequestId;
      if (related !== undefined) {
        // Messages about a request go on that request's stream; the GET stream SHOULD carry
        // only messages unrelated to running requests (Streamable HTTP §listening for messages).
        this.#routes.get(related as number)?.exchange.event(message);
      } else {
        // Outside any request: every session of this engine may care (a shared engine's tool
        // list is everyone's), so each channel's GET stream gets it.
        for (const channel of this.#channels) channel.unrelated(message);
      }
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
    route.exchange.respond(response);
    return RESOLVED;
  }

  /** Hands one request to the engine; returns its internal id, or undefined when the policy answered it. */
  request(channel: ChannelEnd, request: JSONRPCRequest, exchange: Exchange, delivery: Delivery): number | undefined {
    const context: CallContext = {
      method: request.method,
      request,
      principal: delivery.principal,
      sessionId: channel.sessionId,
      clientIp: delivery.clientIp,
      startedAt: performance.now(),
    };
    const denial = this.#policy.admit(context);
    if (denial !== undefined) {
      const response = this.#policy.finish(context, { jsonrpc: '2.0', id: request.id, error: denial } as JSONRPCMessage);
      delivery.onResponse?.(response);
      exchange.respond(response);
      return undefined;
    }
    const internalId = this.#nextId++;
    this.#routes.set(internalId, { exchange, clientId: request.id, context, onResponse: delivery.onResponse, channel });
    this.sessionId = channel.sessionId;
    this.onmessage?.({ ...request, id: internalId }, delivery.extra);
    return internalId;
  }

  /** Hands a notification or a client's response to the engine. */
  other(channel: ChannelEnd, message: JSONRPCMessage, extra: MessageExtraInfo): void {
    this.sessionId = channel.sessionId;
    this.onmessage?.(message, extra);
  }

  /** Ends a request the client cancelled: the engine sends nothing, so its exchange is answered here. */
  cancelled(internalId: number, answer: (clientId: RequestId) => JSONRPCMessage): void {
    const route = this.#routes.get(internalId);
    if (route === undefined) return;
    this.#routes.delete(internalId);
    route.channel.settled(route.clientId, internalId);
    route.exchange.respond(answer(route.clientId));
  }

  close(): Promise<void> {
    if (this.#closed) return RESOLVED;
    this.#closed = true;
    this.onclose?.();
    return RESOLVED;
  }
}
