/**
 * @module store/redis/event-bus
 * Messages between replicas over Redis pub/sub: session ends, keys-file updates, bans, and
 * server-to-client messages bound for a GET stream held by another replica. Publishing is
 * best effort (a short timeout, no retry); a replica that misses a message converges through
 * the shared state in Redis (session metadata, ban keys, the keys generation).
 *
 * Every message travels in a signed envelope (see `signed-bus`): what fails its tag, freshness
 * or schema is dropped and reported to `onDrop`, and a handler that throws is isolated and
 * reported the same way, so nothing published on the channel can take the process down.
 */

import type { Redis } from 'ioredis';
import type { BusMessage, EventBus } from '../types.js';
import type { RedisKeys } from './keys.js';
import type { BusCodec, BusDropReason } from './signed-bus.js';

export class RedisEventBus implements EventBus {
  readonly #client: Redis;
  readonly #subscriber: Redis;
  readonly #channel: string;
  readonly #codec: BusCodec;
  readonly #onDrop: (reason: BusDropReason, error?: unknown) => void;
  readonly #handlers: Array<(message: BusMessage) => void> = [];

  constructor(options: { client: Redis; subscriber: Redis; keys: RedisKeys; codec: BusCodec; onDrop?: (reason: BusDropReason, error?: unknown) => void }) {
    this.#client = options.client;
    this.#subscriber = options.subscriber;
    this.#channel = options.keys.events;
    this.#codec = options.codec;
    this.#onDrop = options.onDrop ?? (() => undefined);
    this.#subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.#channel) this.#receive(text);
    });
    // ioredis re-subscribes by itself after a reconnect (autoResubscribe).
    void this.#subscriber.subscribe(this.#channel).catch(() => undefined);
  }

  async publish(message: BusMessage): Promise<void> {
    await this.#client.publish(this.#channel, this.#codec.encode(message));
  }

  onMessage(handler: (message: BusMessage) => void): void {
    this.#handlers.push(handler);
  }

  async close(): Promise<void> {
    this.#handlers.length = 0;
    await this.#subscriber.unsubscribe(this.#channel).catch(() => undefined);
  }

  /** Runs inside the Redis client's data handler: must never throw. */
  #receive(text: string): void {
    let decoded;
    try {
      decoded = this.#codec.decode(text);
    } catch (error) {
      this.#onDrop('malformed', error);
      return;
    }
    if (!decoded.ok) {
      this.#onDrop(decoded.reason);
      return;
    }
    for (const handler of this.#handlers) {
      try {
        handler(decoded.message);
      } catch (error) {
        this.#onDrop('handler_error', error);
      }
    }
  }
}
