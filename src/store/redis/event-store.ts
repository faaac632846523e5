/**
 * @module store/redis/event-store
 * Recent SSE events in Redis, so a client can resume a stream on another replica: one list
 * per stream holding the last `maxEvents` events (`<seq>\n<json>`), trimmed on every append and
 * expiring `ttlMs` after the last one; events over 256 KiB stay local. Appends are pipelined
 * and never awaited by the request path. Every item is sealed with the shared secret and bound to
 * its stream's key: an item pushed by anyone else is skipped on replay, and sequence numbers
 * must increase, so a copied item is not replayed twice.
 */

import type { Redis } from 'ioredis';
import type { EventStore, StoredEvent, StoredEvents } from '../types.js';
import type { RedisKeys } from './keys.js';
import type { RecordSeal } from './sealed-records.js';

const END_MARKER = 'end';
/** Events larger than this (characters) are kept only by the replica that produced them. */
const MAX_SHARED_EVENT = 256 * 1024;

export class RedisEventStore implements EventStore {
  readonly #client: Redis;
  readonly #keys: RedisKeys;
  readonly #maxEvents: number;
  readonly #ttlMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #seal: RecordSeal;

  constructor(options: { client: Redis; keys: RedisKeys; seal: RecordSeal; maxEvents?: number; ttlMs?: number; onError?: (error: unknown) => void }) {
    this.#client = options.client;
    this.#keys = options.keys;
    this.#seal = options.seal;
    this.#maxEvents = options.maxEvents ?? 64;
    this.#ttlMs = options.ttlMs ?? 5 * 60_000;
    this.#onError = options.onError ?? (() => undefined);
  }

  append(streamId: string, seq: number, data: string): void {
    // Large events are not shared: another replica's replay would cost a Redis round trip per MB.
    if (data.length > MAX_SHARED_EVENT) return;
    this.#push(streamId, `${seq}\n${data}`, this.#maxEvents);
  }

  end(streamId: string): void {
    this.#push(streamId, END_MARKER, this.#maxEvents + 1);
  }

  async replay(streamId: string, afterSeq: number): Promise<StoredEvents | undefined> {
    const key = this.#keys.stream(streamId);
    const items = await this.#client.lrange(key, 0, -1);
    if (items.length === 0) return undefined;
    const events: StoredEvent[] = [];
    let ended = false;
    let last = afterSeq;
    for (const sealed of items) {
      const item = this.#seal.open('event', key, sealed);
      if (item === undefined) continue;
      if (item === END_MARKER) {
        ended = true;
        continue;
      }
      const newline = item.indexOf('\n');
      const seq = Number(item.slice(0, newline));
      if (!Number.isSafeInteger(seq) || seq <= last) continue;
      last = seq;
      events.push({ seq, data: item.slice(newline + 1) });
    }
    return { events, ended };
  }

  #push(streamId: string, item: string, keep: number): void {
    const key = this.#keys.stream(streamId);
    this.#client
      .multi()
      .rpush(key, this.#seal.seal(key, item))
      .ltrim(key, -keep, -1)
      .pexpire(key, this.#ttlMs)
      .exec()
      .catch((error: unknown) => this.#onError(error));
  }
}
