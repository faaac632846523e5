/**
 * @module store/memory/event-store
 * Recent SSE events per stream, in this process: the last `maxEvents` of each stream, kept
 * for `ttlMs` after the stream's last activity, at most `maxStreams` streams (the oldest go
 * first). Replay is synchronous, so a local resume cannot miss an event written meanwhile.
 */

import type { EventStore, StoredEvent, StoredEvents } from '../types.js';

interface Entry {
  events: StoredEvent[];
  ended: boolean;
  touched: number;
}

export interface MemoryEventStoreOptions {
  readonly maxEvents?: number;
  readonly maxStreams?: number;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export class MemoryEventStore implements EventStore {
  readonly #streams = new Map<string, Entry>();
  readonly #maxEvents: number;
  readonly #maxStreams: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: MemoryEventStoreOptions = {}) {
    this.#maxEvents = options.maxEvents ?? 64;
    this.#maxStreams = options.maxStreams ?? 10_000;
    this.#ttlMs = options.ttlMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#streams.size;
  }

  append(streamId: string, seq: number, message: unknown): void {
    let entry = this.#streams.get(streamId);
    if (entry === undefined) {
      this.#evict();
      entry = { events: [], ended: false, touched: 0 };
    } else {
      // Re-insert so Map order stays oldest-activity first.
      this.#streams.delete(streamId);
    }
    entry.events.push({ seq, message });
    if (entry.events.length > this.#maxEvents) entry.events.splice(0, entry.events.length - this.#maxEvents);
    entry.touched = this.#now();
    this.#streams.set(streamId, entry);
  }

  end(streamId: string): void {
    const entry = this.#streams.get(streamId);
    if (entry !== undefined) entry.ended = true;
  }

  replay(streamId: string, afterSeq: number): StoredEvents | undefined {
    const entry = this.#streams.get(streamId);
    if (entry === undefined) return undefined;
    if (this.#now() - entry.touched > this.#ttlMs) {
      this.#streams.delete(streamId);
      return undefined;
    }
    return { events: entry.events.filter((event) => event.seq > afterSeq), ended: entry.ended };
  }

  #evict(): void {
    const now = this.#now();
    for (const [id, entry] of this.#streams) {
      if (this.#streams.size < this.#maxStreams && now - entry.touched <= this.#ttlMs) break;
      this.#streams.delete(id);
    }
  }
}
