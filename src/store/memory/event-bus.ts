/**
 * @module store/memory/event-bus
 * The event bus of a single process: publishing delivers to this process's handlers only.
 * Like the Redis bus, a handler that throws is isolated (the others still run, the failure is
 * reported to `onHandlerError`), so no subscriber can fail another's delivery or the publisher.
 */

import type { BusMessage, EventBus } from '../types.js';

export interface LocalEventBusOptions {
  /** A handler threw; the other handlers still received the message. */
  readonly onHandlerError?: (error: unknown) => void;
}

export class LocalEventBus implements EventBus {
  readonly #handlers: Array<(message: BusMessage) => void> = [];
  readonly #onHandlerError: (error: unknown) => void;

  constructor(options: LocalEventBusOptions = {}) {
    this.#onHandlerError = options.onHandlerError ?? (() => undefined);
  }

  async publish(message: BusMessage): Promise<void> {
    for (const handler of this.#handlers) {
      try {
        handler(message);
      } catch (error) {
        this.#onHandlerError(error);
      }
    }
  }

  onMessage(handler: (message: BusMessage) => void): void {
    this.#handlers.push(handler);
  }

  async close(): Promise<void> {
    this.#handlers.length = 0;
  }
}
