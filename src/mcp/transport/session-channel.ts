/**
 * @module mcp/transport/session-channel
 * One MCP session's side of the transport: its requests in flight (for cancellation), its GET
 * stream, its resumable SSE streams, and the relay to another replica's GET stream. It talks
 * to the protocol engine through an {@link EngineLink}, its own or one shared by all sessions.
 */

import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '@modelcontextprotocol/server';
import { WardenError } from '../../errors.js';
import type { MessageKind } from '../jsonrpc.js';
import { RPC } from '../../wire-codes.js';
import type { ChannelEnd, Delivery, EngineLink } from './engine-link.js';
import type { Exchange } from './exchange.js';
import { SseStream, type EventRecorder } from './sse.js';

export interface SessionChannelOptions {
  /** Undefined for stateless requests (no GET stream, no resumption). */
  readonly sessionId: string | undefined;
  readonly link: EngineLink;
  /** Where a GET-stream message goes when this process holds no GET stream (another replica may). */
  readonly relay?: ((message: JSONRPCMessage) => void) | undefined;
  /** Records SSE events so streams can be resumed (sessions only). */
  readonly recorder?: EventRecorder | undefined;
  /** Clock for the GET stream's lifetimes (default `Date.now`). */
  readonly now?: (() => number) | undefined;
}

/** Reconnection delay suggested to a client whose GET stream reached its lifetime (SSE `retry:`). */
const STREAM_RETRY_MS = 1000;

export class SessionChannel implements ChannelEnd {
  readonly sessionId: string | undefined;
  readonly link: EngineLink;
  readonly #relay: SessionChannelOptions['relay'];
  readonly #recorder: EventRecorder | undefined;
  /** Client id → internal id of requests in flight, to translate `notifications/cancelled`. */
  #byClientId: Map<RequestId, number> | undefined;
  #inFlight = 0;
  #standalone: SseStream | undefined;
  /** When the GET stream was opened and last carried a message (the channel's clock). */
  #standaloneOpenedAt = 0;
  #standaloneLastEvent = 0;
  /** Id of the latest GET stream, so a client resuming it after it ended gets a new one. */
  #standaloneStreamId: string | undefined;
  readonly #now: () => number;
  /** Resumable streams of this session that have not ended, by stream id. */
  #streams: Map<string, SseStream> | undefined;
  #nextStream = 1;
  #closed = false;

  constructor(options: SessionChannelOptions) {
    this.sessionId = options.sessionId;
    this.link = options.link;
    this.#relay = options.relay;
    this.#recorder = options.sessionId === undefined ? undefined : options.recorder;
    this.#now = options.now ?? Date.now;
    options.link.join(this);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True while a request is in flight or a client is connected to the GET stream. */
  get busy(): boolean {
    return this.#inFlight > 0 || (this.#standalone !== undefined && this.#standalone.attached);
  }

  /** True while a request is in flight (a GET stream alone does not count). */
  get working(): boolean {
    return this.#inFlight > 0;
  }

  /** True while this process holds a GET stream for the session. */
  get hasStandalone(): boolean {
    return this.#standalone !== undefined && !this.#standalone.closed;
  }

  /**
   * Hands the messages of one POST to the engine. Responses to its requests are delivered to
   * `exchange` (which must be given when there are requests).
   */
  deliver(messages: readonly JSONRPCMessage[], kinds: readonly MessageKind[], exchange: Exchange | undefined, delivery: Delivery): void {
    // Count every request first: the exchange must not settle while later requests of the
    // same batch are still to come.
    if (exchange !== undefined) {
      for (const kind of kinds) if (kind === 'request') exchange.expect();
    }
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index] as JSONRPCMessage;
      const kind = kinds[index];
      if (kind === 'request') {
        const request = message as JSONRPCRequest;
        this.#inFlight++;
        const internalId = this.link.request(this, request, exchange as Exchange, delivery);
        if (this.sessionId !== undefined) (this.#byClientId ??= new Map()).set(request.id, internalId);
      } else if (kind === 'notification' && (message as { method: string }).method === 'notifications/cancelled') {
        this.#cancel(message, delivery);
      } else {
        this.link.other(this, message, delivery.extra);
      }
    }
  }

  settled(clientId: RequestId, internalId: number): void {
    this.#inFlight--;
    if (this.#byClientId?.get(clientId) === internalId) this.#byClientId.delete(clientId);
  }

  unrelated(message: JSONRPCMessage): void {
    if (!this.pushStandalone(message)) this.#relay?.(message);
  }

  /** Writes a message (possibly relayed from another replica) to the local GET stream; false when none is open. */
  pushStandalone(message: JSONRPCMessage): boolean {
    if (this.#standalone === undefined || this.#standalone.closed) return false;
    this.#standaloneLastEvent = this.#now();
    this.#standalone.send(message);
    return true;
  }

  /** A new SSE stream for this session: resumable (ids `<session>/<n>/<seq>`) when events are recorded. */
  newStream(): SseStream {
    if (this.sessionId === undefined || this.#recorder === undefined) return new SseStream();
    const streamId = `${this.sessionId}/${this.#nextStream++}`;
    const stream = new SseStream({ streamId, recorder: this.#recorder });
    const streams = (this.#streams ??= new Map());
    streams.set(streamId, stream);
    stream.onClose(() => streams.delete(streamId));
    return stream;
  }

  /** A resumable stream of this session that is still running here. */
  liveStream(streamId: string): SseStream | undefined {
    const stream = this.#streams?.get(streamId);
    return stream === undefined || stream.ended ? undefined : stream;
  }

  /** Opens the session's GET stream; undefined when a client is connected to one. */
  openStandalone(): SseStream | undefined {
    if (this.#standalone !== undefined && this.#standalone.attached) return undefined;
    // A detached standalone stream stays resumable; a plain GET starts a new one.
    this.#standalone?.end();
    const stream = this.newStream();
    this.#standalone = stream;
    this.#standaloneStreamId = stream.streamId;
    this.#standaloneOpenedAt = this.#standaloneLastEvent = this.#now();
    stream.onClose(() => {
      if (this.#standalone === stream) this.#standalone = undefined;
    });
    return stream;
  }

  /** True when `streamId` names this session's latest GET stream (it may have ended). */
  isStandalone(streamId: string): boolean {
    return streamId === this.#standaloneStreamId;
  }

  /** Ends the GET stream, if open; the client may reconnect. */
  endStandalone(): void {
    this.#standalone?.end();
    this.#standalone = undefined;
  }

  /**
   * Ends the GET stream when it carried no message for `idleMs` or was opened `maxMs` ago, with
   * a `retry:` hint: the client reconnects (with `Last-Event-ID`) and nothing it was owed is lost.
   */
  expireStandalone(now: number, idleMs: number, maxMs: number): void {
    const stream = this.#standalone;
    if (stream === undefined || stream.closed) return;
    if (now - this.#standaloneLastEvent < idleMs && now - this.#standaloneOpenedAt < maxMs) return;
    if (stream.attached) stream.sendRaw(`retry: ${STREAM_RETRY_MS}\n\n`);
    this.endStandalone();
  }

  /** Ends the session's side: requests in flight get 404, streams end. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.link.leave(this, new WardenError('WARDEN_ERR_SESSION_NOT_FOUND', { reason: 'session_closed' }));
    this.#inFlight = 0;
    this.#byClientId = undefined;
    this.endStandalone();
    if (this.#streams !== undefined) for (const stream of this.#streams.values()) stream.end();
    this.#streams = undefined;
  }

  #cancel(message: JSONRPCMessage, delivery: Delivery): void {
    const params = (message as { params?: { requestId?: unknown; reason?: unknown } }).params;
    const internalId = params?.requestId === undefined ? undefined : this.#byClientId?.get(params.requestId as RequestId);
    // A cancellation for a request we do not hold (finished, or another session's) is ignored (MCP cancellation §behavior).
    if (internalId === undefined) return;
    this.link.other(this, { ...message, params: { ...params, requestId: internalId } } as JSONRPCMessage, delivery.extra);
    this.link.cancelled(internalId, (clientId) => ({ jsonrpc: '2.0', id: clientId, error: { code: RPC.SERVER_ERROR, message: 'Request cancelled' } }));
  }
}
