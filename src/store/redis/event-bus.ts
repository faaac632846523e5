/**
 * @module store/redis/event-bus
 * Messages between replicas over Redis pub/sub: session ends, keys-file updates, bans, and
 * server-to-client messages bound for a GET stream held by another replica. Publishing is
 * best effort (a short timeout, no retry); a replica that misses a message converges through
 * the shared state in Redis (session metadata, ban keys, the keys generation).
 */

import type { Redis } from 'ioredis';
import type { BusMessage, EventBus } from '../types.js';
import type { RedisKeys } from './keys.js';

const MESSAGE_TYPES = new Set(['session_closed', 'keys_restricted', 'ban', 'stream']);

export class RedisEventBus implements EventBus {
  readonly #client: Redis;
  readonly #subscriber: Redis;
  readonly #channel: string;
  readonly #handlers: Array<(message: BusMessage) => void> = [];

  constructor(options: { client: Redis; subscriber: Redis; keys: RedisKeys }) {
    this.#client = options.client;
    this.#subscriber = options.subscriber;
    this.#channel = options.keys.events;
    this.#subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.#channel) return;
      let message: BusMessage;
      try {
        message = JSON.parse(text) as BusMessage;
      } catch {
        return;
      }
      if (typeof message !== 'object' || message === null || !MESSAGE_TYPES.has(message.type)) return;
      for (const handler of this.#handlers) handler(message);
    });
    // ioredis re-subscribes by itself after a reconnect (autoResubscribe).
    void this.#subscriber.subscribe(this.#channel).catch(() => undefined);
  }

  async publish(message: BusMessage): Promise<void> {
    await this.#client.publish(this.#channel, JSON.stringify(message));
  }

  onMessage(handler: (message: BusMessage) => void): void {
    this.#handlers.push(handler);
  }

  async close(): Promise<void> {
    this.#handlers.length = 0;
    await this.#subscriber.unsubscribe(this.#channel).catch(() => undefined);
  }
}
