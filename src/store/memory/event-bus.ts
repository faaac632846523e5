/**
 * @module store/memory/event-bus
 * The event bus of a single process: publishing delivers to this process's handlers only.
 */

import type { BusMessage, EventBus } from '../types.js';

export class LocalEventBus implements EventBus {
  readonly #handlers: Array<(message: BusMessage) => void> = [];

  async publish(message: BusMessage): Promise<void> {
    for (const handler of this.#handlers) handler(message);
  }

  onMessage(handler: (message: BusMessage) => void): void {
    this.#handlers.push(handler);
  }

  async close(): Promise<void> {
    this.#handlers.length = 0;
  }
}
