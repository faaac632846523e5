/**
 * @module mcp/transport/sse
 * A Server-Sent Events stream (WHATWG HTML §9.2) over an {@link HttpSink}, resumable when it
 * has an id: every event then carries `id: <stream>/<seq>` and is recorded, so a client that
 * lost the connection can come back with `Last-Event-ID` (Streamable HTTP §resumability and
 * redelivery) and receive what it missed, on the same stream object while it lives here.
 *
 * Messages written before a sink is attached are queued; a slow reader that lets more than
 * `maxBuffered` bytes pile up is cut off rather than allowed to grow memory without bound.
 */

import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import type { HttpSink } from './types.js';

const DEFAULT_KEEPALIVE_MS = 15_000;
const DEFAULT_MAX_BUFFERED = 4 * 1024 * 1024;

/** Where resumable events are recorded (the event stores). */
export interface EventRecorder {
  append(streamId: string, seq: number, data: string): void;
  end(streamId: string): void;
}

/**
 * Runs `tick` every `everyMs` until the returned function is called. The default is an unref'd
 * `setInterval`; tests pass their own to drive keep-alives without waiting.
 */
export type KeepAliveTimer = (tick: () => void, everyMs: number) => () => void;

/** The default {@link KeepAliveTimer}: an interval that does not hold the process open. */
export const intervalTimer: KeepAliveTimer = (tick, everyMs) => {
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return () => clearInterval(timer);
};

export interface SseOptions {
  readonly keepAliveMs?: number;
  readonly keepAliveTimer?: KeepAliveTimer;
  readonly maxBuffered?: number;
  /** Makes the stream resumable: events get ids under this stream id and are recorded. */
  readonly streamId?: string | undefined;
  readonly recorder?: EventRecorder | undefined;
}

/** The text of one `message` event carrying `data` (a message serialized as JSON, one line). */
export function formatEvent(data: string, eventId?: string): string {
  const idLine = eventId === undefined ? '' : `id: ${eventId}\n`;
  return `event: message\n${idLine}data: ${data}\n\n`;
}

/** Parses `<session>/<stream>/<seq>`; undefined when the id is not one of ours. */
export function parseEventId(eventId: string): { sessionId: string; streamId: string; seq: number } | undefined {
  const parts = eventId.split('/');
  if (parts.length !== 3) return undefined;
  const [sessionId = '', stream = '', seqText = ''] = parts;
  if (!/^\d{1,9}$/.test(stream) || !/^\d{1,12}$/.test(seqText) || sessionId.length === 0) return undefined;
  return { sessionId, streamId: `${sessionId}/${stream}`, seq: Number(seqText) };
}

export class SseStream {
  readonly streamId: string | undefined;
  #sink: HttpSink | undefined;
  #queue: string[] = [];
  #seq = 0;
  #ended = false;
  /** The client went away; a resumable stream keeps recording for a later resume. */
  #detached = false;
  #stopKeepAlive: (() => void) | undefined;
  readonly #closeListeners: Array<() => void> = [];
  readonly #keepAliveMs: number;
  readonly #keepAliveTimer: KeepAliveTimer;
  readonly #maxBuffered: number;
  readonly #recorder: EventRecorder | undefined;

  constructor(options: SseOptions = {}) {
    this.#keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEPALIVE_MS;
    this.#keepAliveTimer = options.keepAliveTimer ?? intervalTimer;
    this.#maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    this.streamId = options.recorder === undefined ? undefined : options.streamId;
    this.#recorder = this.streamId === undefined ? undefined : options.recorder;
  }

  /** True once the stream was ended, or its client went away and it cannot be resumed. */
  get closed(): boolean {
    return this.#ended || (this.#detached && this.#recorder === undefined);
  }

  /** True once the server finished the stream. */
  get ended(): boolean {
    return this.#ended;
  }

  /** True while a client connection is attached. */
  get attached(): boolean {
    return this.#sink !== undefined;
  }

  attach(sink: HttpSink): void {
    if (this.#sink !== undefined) throw new Error('SSE stream already attached');
    this.#detached = false;
    if (sink.destroyed === true) {
      // The client left before the head was written: its 'close' has already been emitted.
      this.#detach();
      return;
    }
    this.#sink = sink;
    sink.on('close', () => {
      if (this.#sink === sink) this.#detach();
    });
    for (const chunk of this.#queue) this.#write(chunk);
    this.#queue = [];
    if (this.#ended) {
      sink.end();
      return;
    }
    if (this.#keepAliveMs > 0) {
      // A comment line keeps proxies from timing out an idle stream and detects dead peers.
      this.#stopKeepAlive = this.#keepAliveTimer(() => this.#write(': keepalive\n\n'), this.#keepAliveMs);
    }
  }

  /** Writes one JSON-RPC message as a `message` event (recorded when resumable). */
  send(message: JSONRPCMessage): void {
    if (this.#ended) return;
    const data = JSON.stringify(message);
    if (this.#recorder !== undefined && this.streamId !== undefined) {
      const seq = ++this.#seq;
      this.#recorder.append(this.streamId, seq, data);
      this.#write(formatEvent(data, `${this.streamId}/${seq}`));
      return;
    }
    if (this.#detached) return;
    this.#write(formatEvent(data));
  }

  /** Writes a raw, already formatted event (replayed events, retry hints). */
  sendRaw(chunk: string): void {
    this.#write(chunk);
  }

  /** Ends the stream after what was written. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#stopTimer();
    if (this.streamId !== undefined) this.#recorder?.end(this.streamId);
    if (this.#sink !== undefined && !this.#sink.writableEnded) this.#sink.end();
    this.#notifyClosed();
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.#closeListeners.push(listener);
  }

  #write(chunk: string): void {
    if (this.#ended && this.#sink === undefined) return;
    const sink = this.#sink;
    if (sink === undefined) {
      // Queue only before the first attach; while detached, resumption replays from the store.
      if (!this.#detached) this.#queue.push(chunk);
      return;
    }
    if (sink.writableEnded) return;
    sink.write(chunk);
    if (sink.writableLength > this.#maxBuffered) {
      // The reader is not keeping up; dropping it bounds memory. Clients reconnect (and resume).
      sink.destroy();
      this.#detach();
    }
  }

  #detach(): void {
    this.#sink = undefined;
    this.#detached = true;
    this.#stopTimer();
    if (this.closed) this.#notifyClosed();
  }

  #notifyClosed(): void {
    for (const listener of this.#closeListeners.splice(0)) listener();
  }

  #stopTimer(): void {
    this.#stopKeepAlive?.();
    this.#stopKeepAlive = undefined;
  }
}
