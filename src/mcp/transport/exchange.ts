/**
 * @module mcp/transport/exchange
 * One POST on the MCP endpoint, from its requests to its answer.
 *
 * The answer is chosen late: a plain request/response becomes one JSON body; as soon as the
 * server sends anything else on the request's behalf (a progress or log notification, a
 * request to the client) the exchange turns into an SSE stream, if the client accepts one
 * (Streamable HTTP §sending messages to the server: "either text/event-stream or application/json").
 */

import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import type { WardenError } from '../../errors.js';
import { SseStream } from './sse.js';
import { SSE_HEADERS, type McpHttpResponse } from './types.js';

const enum Mode {
  Undecided,
  Stream,
  Done,
}

export interface ExchangeOptions {
  readonly acceptJson: boolean;
  readonly acceptSse: boolean;
  /** The POST body was a JSON array: answer with an array. */
  readonly batch: boolean;
  /** Creates the SSE stream if the exchange turns into one (resumable within a session). */
  readonly openStream?: () => SseStream;
}

export class Exchange {
  /** Response headers; may be extended until the exchange settles (e.g. `mcp-session-id`). */
  readonly headers: Record<string, string> = {};
  readonly promise: Promise<McpHttpResponse>;
  readonly #acceptJson: boolean;
  readonly #acceptSse: boolean;
  readonly #batch: boolean;
  readonly #openStream: () => SseStream;
  #resolve!: (response: McpHttpResponse) => void;
  #mode = Mode.Undecided;
  #pending = 0;
  #responses: JSONRPCMessage[] = [];
  #stream: SseStream | undefined;

  constructor(options: ExchangeOptions) {
    this.#acceptJson = options.acceptJson;
    this.#acceptSse = options.acceptSse;
    this.#batch = options.batch;
    this.#openStream = options.openStream ?? (() => new SseStream());
    this.promise = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Number of requests still waiting for their response. */
  get pending(): number {
    return this.#pending;
  }

  /** Registers one more request whose response this exchange must carry. */
  expect(): void {
    this.#pending++;
  }

  /** Starts streaming now (client accepts only SSE). */
  streamNow(): void {
    if (this.#mode === Mode.Undecided) this.#toStream();
  }

  /**
   * Delivers the response to one of the exchange's requests. `status` (a refusal of the request
   * itself, e.g. 404 for an unknown method on the modern era) is answered as a JSON body with
   * that status when nothing has been streamed yet.
   */
  respond(message: JSONRPCMessage, status?: number): void {
    this.#pending--;
    if (status !== undefined && this.#mode === Mode.Undecided && this.#pending === 0 && this.#responses.length === 0) {
      this.#mode = Mode.Done;
      this.#resolve({ kind: 'body', status, headers: { ...this.headers, 'content-type': 'application/json' }, body: JSON.stringify(message) });
      return;
    }
    if (this.#mode === Mode.Stream) {
      const stream = this.#stream as SseStream;
      stream.send(message);
      if (this.#pending === 0) stream.end();
      return;
    }
    if (this.#mode === Mode.Done) return;
    this.#responses.push(message);
    if (this.#pending > 0) return;
    if (!this.#acceptJson) {
      this.#toStream();
      (this.#stream as SseStream).end();
      return;
    }
    this.#mode = Mode.Done;
    const body = this.#batch ? JSON.stringify(this.#responses) : JSON.stringify(this.#responses[0]);
    this.#responses = [];
    this.#resolve({ kind: 'body', status: 200, headers: { ...this.headers, 'content-type': 'application/json' }, body });
  }

  /**
   * Delivers a notification or server-to-client request sent on behalf of one of the
   * exchange's requests. Returns false when it could not be delivered (the client accepts
   * only JSON, or the answer was already sent).
   */
  event(message: JSONRPCMessage): boolean {
    if (this.#mode === Mode.Done) return false;
    if (this.#mode === Mode.Undecided) {
      if (!this.#acceptSse) return false;
      this.#toStream();
    }
    const stream = this.#stream as SseStream;
    // A detached resumable stream still records the event for the client's resume.
    if (stream.closed) return false;
    stream.send(message);
    return true;
  }

  /** Ends the exchange early: an error answer if nothing was sent yet, else the stream ends. */
  abort(error: WardenError): void {
    if (this.#mode === Mode.Undecided) {
      this.#mode = Mode.Done;
      this.#resolve({ kind: 'error', error });
    } else if (this.#mode === Mode.Stream) {
      this.#stream?.end();
    }
  }

  #toStream(): void {
    this.#mode = Mode.Stream;
    const stream = this.#openStream();
    this.#stream = stream;
    for (const message of this.#responses) stream.send(message);
    this.#responses = [];
    this.#resolve({
      kind: 'stream',
      status: 200,
      headers: { ...SSE_HEADERS, ...this.headers },
      attach: (sink) => stream.attach(sink),
    });
  }
}
