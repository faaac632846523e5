/**
 * @module store/memory/event-store
 * Recent SSE events per stream, in this process, bounded four ways, all in UTF-8 bytes: the
 * last `maxEvents` of a stream, at most `maxStreamBytes` per stream, `maxPrincipalBytes` over
 * one principal's streams and `maxBytes` in all (oldest events first: a stream's oldest events,
 * then the least recently active streams), kept `ttlMs` after a stream's last activity. A client
 * that asks for large answers on many streams therefore cannot grow the server's memory past the
 * budget; it can only lose the oldest events of its own streams. Replay is synchronous, so a local
 * resume cannot miss an event written meanwhile.
 */

import { DEFAULT_PRINCIPAL_BYTES, DEFAULT_STREAM_BYTES, DEFAULT_TOTAL_BYTES, utf8Bytes, type EventByteBudgets } from '../byte-budget.js';
import type { EventStore, StoredEvent, StoredEvents } from '../types.js';

interface Entry {
  readonly id: string;
  readonly owner: string;
  events: Array<StoredEvent & { bytes: number }>;
  bytes: number;
  ended: boolean;
  touched: number;
}

export interface MemoryEventStoreOptions extends EventByteBudgets {
  readonly maxEvents?: number;
  readonly maxStreams?: number;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export class MemoryEventStore implements EventStore {
  /** Every stream, least recently active first. */
  readonly #streams = new Map<string, Entry>();
  /** Each principal's streams, least recently active first, and their bytes. */
  readonly #owners = new Map<string, { streams: Set<Entry>; bytes: number }>();
  readonly #maxEvents: number;
  readonly #maxStreams: number;
  readonly #maxStreamBytes: number;
  readonly #maxPrincipalBytes: number;
  readonly #maxBytes: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #ownerOf: (streamId: string) => string | undefined;
  #bytes = 0;

  constructor(options: MemoryEventStoreOptions = {}) {
    this.#maxEvents = options.maxEvents ?? 64;
    this.#maxStreams = options.maxStreams ?? 10_000;
    this.#maxStreamBytes = options.maxStreamBytes ?? DEFAULT_STREAM_BYTES;
    this.#maxPrincipalBytes = options.maxPrincipalBytes ?? DEFAULT_PRINCIPAL_BYTES;
    this.#maxBytes = options.maxBytes ?? DEFAULT_TOTAL_BYTES;
    this.#ttlMs = options.ttlMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
    this.#ownerOf = options.ownerOf ?? (() => undefined);
  }

  get size(): number {
    return this.#streams.size;
  }

  /** UTF-8 bytes of event data held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** UTF-8 bytes of event data held for one principal. */
  bytesOf(principal: string): number {
    return this.#owners.get(principal)?.bytes ?? 0;
  }

  append(streamId: string, seq: number, data: string): void {
    let entry = this.#streams.get(streamId);
    if (entry === undefined) {
      entry = { id: streamId, owner: this.#ownerOf(streamId) ?? '', events: [], bytes: 0, ended: false, touched: 0 };
    } else {
      // Re-insert so Map order stays oldest-activity first.
      this.#streams.delete(streamId);
    }
    let owner = this.#owners.get(entry.owner);
    if (owner === undefined) {
      owner = { streams: new Set(), bytes: 0 };
      this.#owners.set(entry.owner, owner);
    }
    owner.streams.delete(entry);
    owner.streams.add(entry);
    const bytes = utf8Bytes(data);
    entry.events.push({ seq, data, bytes });
    entry.bytes += bytes;
    owner.bytes += bytes;
    this.#bytes += bytes;
    while (entry.events.length > 1 && (entry.events.length > this.#maxEvents || entry.bytes > this.#maxStreamBytes)) this.#dropOldest(entry);
    entry.touched = this.#now();
    this.#streams.set(streamId, entry);
    // The principal's budget: its oldest events go first, the event just written stays.
    for (const stream of owner.streams) {
      if (owner.bytes <= this.#maxPrincipalBytes) break;
      while (owner.bytes > this.#maxPrincipalBytes && stream.events.length > (stream === entry ? 1 : 0)) this.#dropOldest(stream);
      if (stream.events.length === 0) this.#remove(stream);
    }
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
      this.#remove(entry);
      return undefined;
    }
    return { events: entry.events.filter((event) => event.seq > afterSeq).map(({ seq, data }) => ({ seq, data })), ended: entry.ended };
  }

  /** Drops expired streams, then the least recently active ones while over a budget. */
  #evict(): void {
    const now = this.#now();
    for (const entry of this.#streams.values()) {
      const over = this.#streams.size > this.#maxStreams || this.#bytes > this.#maxBytes;
      if (!over && now - entry.touched <= this.#ttlMs) break;
      // The newest stream keeps its newest event (as the per-stream budget does).
      if (this.#streams.size === 1) break;
      this.#remove(entry);
    }
  }

  #dropOldest(entry: Entry): void {
    const dropped = entry.events.shift();
    if (dropped === undefined) return;
    entry.bytes -= dropped.bytes;
    this.#bytes -= dropped.bytes;
    const owner = this.#owners.get(entry.owner);
    if (owner !== undefined) owner.bytes -= dropped.bytes;
  }

  #remove(entry: Entry): void {
    this.#streams.delete(entry.id);
    this.#bytes -= entry.bytes;
    const owner = this.#owners.get(entry.owner);
    if (owner === undefined) return;
    owner.bytes -= entry.bytes;
    owner.streams.delete(entry);
    if (owner.streams.size === 0) this.#owners.delete(entry.owner);
  }
}
