/**
 * @module mcp/transport/sse
 * A Server-Sent Events stream (WHATWG HTML §9.2) over an {@link HttpSink}. Messages written
 * before the sink is attached are queued; a slow reader that lets more than `maxBuffered`
 * bytes pile up is cut off rather than allowed to grow memory without bound.
 */

import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { HttpSink } from './types.js';

const DEFAULT_KEEPALIVE_MS = 15_000;
const DEFAULT_MAX_BUFFERED = 4 * 1024 * 1024;

export interface SseOptions {
  readonly keepAliveMs?: number;
  readonly maxBuffered?: number;
}

export class SseStream {
  #sink: HttpSink | undefined;
  #queue: string[] = [];
  #ended = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #closeListeners: Array<() => void> = [];
  readonly #keepAliveMs: number;
  readonly #maxBuffered: number;

  constructor(options: SseOptions = {}) {
    this.#keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEPALIVE_MS;
    this.#maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
  }

  /** True once the client went away or the stream was ended. */
  get closed(): boolean {
    return this.#closed || this.#ended;
  }

  attach(sink: HttpSink): void {
    if (this.#sink !== undefined) throw new Error('SSE stream already attached');
    this.#sink = sink;
    sink.on('close', () => this.#onClose());
    for (const chunk of this.#queue) this.#write(chunk);
    this.#queue = [];
    if (this.#ended) {
      sink.end();
      return;
    }
    if (this.#keepAliveMs > 0) {
      // A comment line keeps proxies from timing out an idle stream and detects dead peers.
      this.#timer = setInterval(() => this.#write(': keepalive\n\n'), this.#keepAliveMs);
      this.#timer.unref();
    }
  }

  /** Writes one JSON-RPC message as a `message` event. */
  send(message: JSONRPCMessage, eventId?: string): void {
    const idLine = eventId === undefined ? '' : `id: ${eventId}\n`;
    this.#write(`event: message\n${idLine}data: ${JSON.stringify(message)}\n\n`);
  }

  /** Writes a raw, already formatted event (priming events, retry hints). */
  sendRaw(chunk: string): void {
    this.#write(chunk);
  }

  /** Ends the stream after what was written. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#stopTimer();
    if (this.#sink !== undefined && !this.#sink.writableEnded) this.#sink.end();
    this.#notifyClosed();
  }

  onClose(listener: () => void): void {
    if (this.#closed) listener();
    else this.#closeListeners.push(listener);
  }

  #write(chunk: string): void {
    if (this.#ended || this.#closed) return;
    const sink = this.#sink;
    if (sink === undefined) {
      this.#queue.push(chunk);
      return;
    }
    sink.write(chunk);
    if (sink.writableLength > this.#maxBuffered) {
      // The reader is not keeping up; dropping it bounds memory. Clients reconnect (and resume).
      sink.destroy();
      this.#onClose();
    }
  }

  #onClose(): void {
    this.#stopTimer();
    this.#notifyClosed();
  }

  #notifyClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const listener of this.#closeListeners.splice(0)) listener();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
