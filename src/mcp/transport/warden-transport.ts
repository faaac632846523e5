/**
 * @module mcp/transport/warden-transport
 * The SDK `Transport` the protocol engine (`McpServer`/`Server`) is connected to: one per
 * session, or one shared by every request in stateless mode.
 *
 * Every incoming request gets a fresh internal id before it reaches the engine, and its
 * response is routed back by that id to the HTTP exchange that carried it, with the client's
 * id restored. Two clients (or one careless client) using the same JSON-RPC id at the same
 * time can therefore never receive each other's answers: the failure class of
 * CVE-2026-25536, where a shared transport keyed responses by the client's id.
 */

import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, JSONRPCRequest, MessageExtraInfo, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { WardenError } from '../../errors.js';
import type { Principal } from '../../security/api-keys.js';
import type { MessageKind } from '../jsonrpc.js';
import type { CallContext, MessagePolicy } from '../policy.js';
import type { Exchange } from './exchange.js';
import { RPC } from '../wire.js';
import { SseStream, type EventRecorder } from './sse.js';

const RESOLVED: Promise<void> = Promise.resolve();

interface Route {
  readonly exchange: Exchange;
  readonly clientId: RequestId;
  readonly context: CallContext;
  readonly onResponse: ((response: JSONRPCMessage) => void) | undefined;
}

/** Per-POST information the transport passes along with the messages. */
export interface Delivery {
  readonly principal: Principal;
  readonly clientIp: string;
  readonly extra: MessageExtraInfo;
  /** Called with the (final) response to each request, before it is written. */
  readonly onResponse?: (response: JSONRPCMessage) => void;
}

export class WardenTransport implements Transport {
  sessionId: string | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  readonly #policy: MessagePolicy;
  readonly #routes = new Map<number, Route>();
  /** Client id → internal id of requests in flight, to translate `notifications/cancelled`. */
  readonly #byClientId = new Map<RequestId, number>();
  #nextId = 1;
  #standalone: SseStream | undefined;
  #closed = false;

  readonly #relay: ((message: JSONRPCMessage) => void) | undefined;
  readonly #recorder: EventRecorder | undefined;
  /** Resumable streams of this session that have not ended, by stream id. */
  readonly #streams = new Map<string, SseStream>();
  #nextStream = 1;

  /**
   * @param options.relay Where a message for the GET stream goes when this process holds no
   * open GET stream for the session (another replica may).
   * @param options.recorder Records SSE events so streams can be resumed (sessions only).
   */
  constructor(options: { sessionId: string | undefined; policy: MessagePolicy; relay?: (message: JSONRPCMessage) => void; recorder?: EventRecorder }) {
    this.sessionId = options.sessionId;
    this.#policy = options.policy;
    this.#relay = options.relay;
    this.#recorder = options.sessionId === undefined ? undefined : options.recorder;
  }

  /** True while this process holds an open GET stream for the session. */
  get hasStandalone(): boolean {
    return this.#standalone !== undefined && !this.#standalone.closed;
  }

  /** A new SSE stream for this session: resumable (ids `<session>/<n>/<seq>`) when events are recorded. */
  newStream(): SseStream {
    if (this.sessionId === undefined || this.#recorder === undefined) return new SseStream();
    const streamId = `${this.sessionId}/${this.#nextStream++}`;
    const stream = new SseStream({ streamId, recorder: this.#recorder });
    this.#streams.set(streamId, stream);
    stream.onClose(() => this.#streams.delete(streamId));
    return stream;
  }

  /** A resumable stream of this session that is still running here. */
  liveStream(streamId: string): SseStream | undefined {
    const stream = this.#streams.get(streamId);
    return stream === undefined || stream.ended ? undefined : stream;
  }

  /** Writes a message relayed from another replica to the local GET stream, if open. */
  pushStandalone(message: JSONRPCMessage): void {
    if (this.#standalone !== undefined && !this.#standalone.closed) this.#standalone.send(message);
  }

  /** True while a request is in flight or a client is connected to the GET stream. */
  get busy(): boolean {
    return this.#routes.size > 0 || (this.#standalone !== undefined && this.#standalone.attached);
  }

  get closed(): boolean {
    return this.#closed;
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
      } else if (this.#standalone !== undefined && !this.#standalone.closed) {
        this.#standalone.send(message);
      } else {
        this.#relay?.(message);
      }
      return RESOLVED;
    }
    const internalId = message.id as number;
    const route = this.#routes.get(internalId);
    // No route: the exchange was aborted (session closed) or the request was cancelled.
    if (route === undefined) return RESOLVED;
    this.#routes.delete(internalId);
    if (this.#byClientId.get(route.clientId) === internalId) this.#byClientId.delete(route.clientId);
    const response = this.#policy.finish(route.context, { ...message, id: route.clientId } as JSONRPCMessage);
    route.onResponse?.(response);
    route.exchange.respond(response);
    return RESOLVED;
  }

  /**
   * Hands the messages of one POST to the protocol engine. Responses to its requests are
   * delivered to `exchange` (which must be given when there are requests).
   */
  deliver(messages: readonly JSONRPCMessage[], kinds: readonly MessageKind[], exchange: Exchange | undefined, delivery: Delivery): void {
    // Count every request first: a policy denial answers synchronously and must not settle
    // the exchange while later requests of the same batch are still to come.
    if (exchange !== undefined) {
      for (const kind of kinds) if (kind === 'request') exchange.expect();
    }
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index] as JSONRPCMessage;
      const kind = kinds[index];
      if (kind === 'request') this.#deliverRequest(message as JSONRPCRequest, exchange as Exchange, delivery);
      else if (kind === 'notification') this.#deliverNotification(message, delivery.extra);
      else this.onmessage?.(message, delivery.extra);
    }
  }

  /** Opens the session's standalone GET stream; undefined when a client is connected to one. */
  openStandalone(): SseStream | undefined {
    if (this.#standalone !== undefined && this.#standalone.attached) return undefined;
    // A detached standalone stream stays resumable; a plain GET starts a new one.
    this.#standalone?.end();
    const stream = this.newStream();
    this.#standalone = stream;
    stream.onClose(() => {
      if (this.#standalone === stream) this.#standalone = undefined;
    });
    return stream;
  }

  /** Ends the GET stream, if open; the client may reconnect. */
  endStandalone(): void {
    this.#standalone?.end();
    this.#standalone = undefined;
  }

  close(): Promise<void> {
    if (this.#closed) return RESOLVED;
    this.#closed = true;
    const gone = new WardenError('WARDEN_ERR_SESSION_NOT_FOUND', { reason: 'session_closed' });
    for (const route of this.#routes.values()) route.exchange.abort(gone);
    this.#routes.clear();
    this.#byClientId.clear();
    this.#standalone?.end();
    this.#standalone = undefined;
    for (const stream of this.#streams.values()) stream.end();
    this.#streams.clear();
    this.onclose?.();
    return RESOLVED;
  }

  #deliverRequest(request: JSONRPCRequest, exchange: Exchange, delivery: Delivery): void {
    const context: CallContext = {
      method: request.method,
      request,
      principal: delivery.principal,
      sessionId: this.sessionId,
      clientIp: delivery.clientIp,
      startedAt: performance.now(),
    };
    const denial = this.#policy.admit(context);
    if (denial !== undefined) {
      const response = this.#policy.finish(context, { jsonrpc: '2.0', id: request.id, error: denial } as JSONRPCMessage);
      delivery.onResponse?.(response);
      exchange.respond(response);
      return;
    }
    const internalId = this.#nextId++;
    this.#routes.set(internalId, { exchange, clientId: request.id, context, onResponse: delivery.onResponse });
    if (this.sessionId !== undefined) this.#byClientId.set(request.id, internalId);
    this.onmessage?.({ ...request, id: internalId }, delivery.extra);
  }

  #deliverNotification(message: JSONRPCMessage, extra: MessageExtraInfo): void {
    if ((message as { method: string }).method === 'notifications/cancelled') {
      const params = (message as { params?: { requestId?: unknown; reason?: unknown } }).params;
      const internalId = params?.requestId === undefined ? undefined : this.#byClientId.get(params.requestId as RequestId);
      // A cancellation for a request we do not hold (finished, or another session's) is ignored (MCP cancellation §behavior).
      if (internalId === undefined) return;
      this.onmessage?.({ ...message, params: { ...params, requestId: internalId } } as JSONRPCMessage, extra);
      // The engine sends nothing for a cancelled request; close its exchange so the HTTP request ends.
      const route = this.#routes.get(internalId);
      if (route !== undefined) {
        this.#routes.delete(internalId);
        this.#byClientId.delete(route.clientId);
        route.exchange.respond({ jsonrpc: '2.0', id: route.clientId, error: { code: RPC.SERVER_ERROR, message: 'Request cancelled' } });
      }
      return;
    }
    this.onmessage?.(message, extra);
  }
}
