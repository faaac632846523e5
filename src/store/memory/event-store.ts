/**
 * @module store/memory/event-store
 * Recent SSE events per stream, in this process, bounded three ways: the last `maxEvents` of a
 * stream, at most `maxStreamBytes` per stream and `maxBytes` in all (oldest events, then oldest
 * streams, go first), kept `ttlMs` after a stream's last activity. A client that asks for large
 * answers on many streams therefore cannot grow the server's memory past the budget; it can only
 * lose the oldest events of its own streams. Replay is synchronous, so a local resume cannot
 * miss an event written meanwhile.
 */

import type { EventStore, StoredEvent, StoredEvents } from '../types.js';

interface Entry {
  events: StoredEvent[];
  bytes: number;
  ended: boolean;
  touched: number;
}

export interface MemoryEventStoreOptions {
  readonly maxEvents?: number;
  readonly maxStreams?: number;
  /** Bytes of event data kept per stream (default 1 MiB). */
  readonly maxStreamBytes?: number;
  /** Bytes of event data kept in all (default 64 MiB). */
  readonly maxBytes?: number;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export class MemoryEventStore implements EventStore {
  readonly #streams = new Map<string, Entry>();
  readonly #maxEvents: number;
  readonly #maxStreams: number;
  readonly #maxStreamBytes: number;
  readonly #maxBytes: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #bytes = 0;

  constructor(options: MemoryEventStoreOptions = {}) {
    this.#maxEvents = options.maxEvents ?? 64;
    this.#maxStreams = options.maxStreams ?? 10_000;
    this.#maxStreamBytes = options.maxStreamBytes ?? 1024 * 1024;
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.#ttlMs = options.ttlMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#streams.size;
  }

  /** Bytes of event data held (strings counted at 2 bytes a character would be the worst case; this counts characters). */
  get bytes(): number {
    return this.#bytes;
  }

  append(streamId: string, seq: number, data: string): void {
    let entry = this.#streams.get(streamId);
    if (entry === undefined) {
      entry = { events: [], bytes: 0, ended: false, touched: 0 };
    } else {
      // Re-insert so Map order stays oldest-activity first.
      this.#streams.delete(streamId);
    }
    entry.events.push({ seq, data });
    entry.bytes += data.length;
    this.#bytes += data.length;
    while (entry.events.length > 1 && (entry.events.length > this.#maxEvents || entry.bytes > this.#maxStreamBytes)) {
      const dropped = entry.events.shift() as StoredEvent;
      entry.bytes -= dropped.data.length;
      this.#bytes -= dropped.data.length;
    }
    entry.touched = this.#now();
    this.#streams.set(streamId, entry);
    this.#evict();
  }

  end(streamId: string): void {
    const entry = this.#streams.get(streamId);
    if (entry !== undefined) entry.ended = true;
  }

  replay(streamId: string, afterSeq: number): StoredEvents | undefined {
    const entry = this.#streams.get(streamId);
    if (entry === undefined) return undefined;
    if (this.#now() - entry.touched > this.#ttlMs) {
      this.#remove(streamId, entry);
      return undefined;
    }
    return { events: entry.events.filter((event) => event.seq > afterSeq), ended: entry.ended };
  }

  /** Drops expired streams, then the least recently active ones while over a budget. */
  #evict(): void {
    const now = this.#now();
    for (const [id, entry] of this.#streams) {
      const over = this.#streams.size > this.#maxStreams || this.#bytes > this.#maxBytes;
      if (!over && now - entry.touched <= this.#ttlMs) break;
      this.#remove(id, entry);
    }
  }

  #remove(id: string, entry: Entry): void {
    this.#streams.delete(id);
    this.#bytes -= entry.bytes;
  }
}
