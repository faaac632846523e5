/**
 * @module store/memory/rate-limit
 * An exact rolling-window rate limiter in bounded memory.
 *
 * Each client has a ring of R small counters, one per bucket of `bucketMs` (R = ceil(window /
 * bucket) + 1), and the offset of its latest admitted request inside the newest bucket. A
 * request admitted at t counts until t' where t' - t is at least the window: the requests of a
 * bucket count until its last possible instant ((j + 1) · bucket − 1 ms, or the latest admission
 * for the newest bucket) plus the window. Hence no half-open interval [t, t + window) ever holds
 * more than `limit` admitted requests (the guarantee a fixed window breaks at its boundary), and
 * the wait announced to a refused client (`resetMs`, hence Retry-After) never exceeds the window
 * and is exact: at `resetMs` the request is admitted, 1 ms earlier it is not. A client may be
 * held back up to one bucket longer than a perfect log would, never more than the window after
 * its last admitted request. Time is counted in whole milliseconds.
 *
 * Memory: all clients share typed arrays (struct of arrays); a client costs R two-byte
 * counters, a total, a bucket index and a two-byte offset, plus its Map entry. Idle clients
 * are swept; the table never grows past `maxClients`. Beyond it, `overflow: 'share'` (the
 * default, for the per-IP limit) makes new clients share one overflow counter, so an address
 * flood costs throughput for newcomers, never memory or the guarantee; `overflow: 'evict'`
 * (for failure counting, where a shared counter would blame an innocent client for others'
 * failures) forgets the least recently counted client instead.
 */

import type { RateLimitDecision, RateLimitStore } from '../types.js';
import { windowGeometry } from '../rolling-window.js';

export interface MemoryRateLimitOptions {
  readonly windowMs: number;
  /** Largest limit `consume` will be called with (selects 16- or 32-bit counters). */
  readonly maxLimit: number;
  /** Keys tracked at once; default 200,000. */
  readonly maxClients?: number;
  /** Buckets per window (precision); default 32. */
  readonly buckets?: number;
  /** Monotonic clock in milliseconds; default `performance.now`. */
  readonly now?: () => number;
  /** Sweep idle clients automatically (default true). */
  readonly sweep?: boolean;
  /**
   * Beyond `maxClients`: `share` (default) counts new clients on one shared overflow counter;
   * `evict` forgets the least recently counted client so every client keeps its own count.
   */
  readonly overflow?: 'share' | 'evict';
}

const OVERFLOW_SLOT = 0;
const INITIAL_CAPACITY = 1024;

/** The memory implementation of {@link RateLimitStore}. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly windowMs: number;
  readonly #bucketMs: number;
  readonly #ring: number;
  readonly #maxClients: number;
  readonly #now: () => number;
  readonly #origin: number;
  readonly #wide: boolean;
  readonly #evict: boolean;
  readonly #slots = new Map<string, number>();
  readonly #free: number[] = [];
  #capacity = 0;
  #used = 1; // slot 0 is the shared overflow counter
  #counts: Uint16Array | Uint32Array = new Uint16Array(0);
  #totals = new Uint32Array(0);
  #last = new Float64Array(0);
  /** Milliseconds from the start of the newest non-empty bucket to the latest admission in it. */
  #offsets: Uint16Array | Uint32Array = new Uint16Array(0);
  #overflowHits = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryRateLimitOptions) {
    if (!(options.windowMs > 0)) throw new RangeError('windowMs must be positive');
    this.windowMs = options.windowMs;
    ({ bucketMs: this.#bucketMs, ring: this.#ring } = windowGeometry(options.windowMs, options.buckets));
    this.#maxClients = options.maxClients ?? 200_000;
    this.#now = options.now ?? (() => performance.now());
    this.#origin = this.#now();
    this.#wide = options.maxLimit > 0xffff;
    this.#evict = options.overflow === 'evict';
    this.#grow(Math.min(INITIAL_CAPACITY, this.#maxClients + 1));
    if (options.sweep !== false) {
      this.#timer = setInterval(() => this.sweep(), Math.max(1000, Math.min(this.windowMs, 60_000)));
      this.#timer.unref();
    }
  }

  get size(): number {
    return this.#slots.size;
  }

  /** Requests that were counted against the shared overflow slot (table full). */
  get overflowHits(): number {
    return this.#overflowHits;
  }

  /** Approximate bytes held by the counter arrays (excluding the Map), for the benchmark. */
  get arrayBytes(): number {
    return this.#counts.byteLength + this.#totals.byteLength + this.#last.byteLength + this.#offsets.byteLength;
  }

  consume(key: string, limit: number): RateLimitDecision {
    const elapsed = Math.floor(this.#now() - this.#origin);
    const bucket = Math.floor(elapsed / this.#bucketMs);
    let slot = this.#slots.get(key);
    if (slot === undefined) slot = this.#allocate(key, bucket);
    else if (this.#evict) {
      // Least recently counted first: Map iteration order is insertion order.
      this.#slots.delete(key);
      this.#slots.set(key, slot);
    }
    this.#advance(slot, bucket);
    this.#expire(slot, bucket, elapsed);
    const total = this.#totals[slot] as number;
    if (total >= limit) {
      return { allowed: false, limit, remaining: 0, resetMs: this.#waitMs(slot, bucket, elapsed, total - limit + 1) };
    }
    const index = slot * this.#ring + (bucket % this.#ring);
    this.#counts[index] = (this.#counts[index] as number) + 1;
    this.#totals[slot] = total + 1;
    this.#offsets[slot] = elapsed - bucket * this.#bucketMs;
    return { allowed: true, limit, remaining: limit - total - 1, resetMs: this.#waitMs(slot, bucket, elapsed, 1) };
  }

  /** Each tracked key with the requests counted in its current window (keys at 0 left out). */
  *counts(): IterableIterator<[string, number]> {
    const bucket = Math.floor((this.#now() - this.#origin) / this.#bucketMs);
    for (const [key, slot] of this.#slots) {
      this.#advance(slot, bucket);
      const total = this.#totals[slot] as number;
      if (total > 0) yield [key, total];
    }
  }

  reset(key: string): void {
    const slot = this.#slots.get(key);
    if (slot === undefined) return;
    this.#clear(slot);
    this.#slots.delete(key);
    this.#free.push(slot);
  }

  /** Forgets clients whose every bucket has left the window. */
  sweep(): void {
    const bucket = Math.floor((this.#now() - this.#origin) / this.#bucketMs);
    for (const [key, slot] of this.#slots) {
      if (bucket - (this.#last[slot] as number) >= this.#ring) {
        this.#clear(slot);
        this.#slots.delete(key);
        this.#free.push(slot);
      }
    }
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #allocate(key: string, bucket: number): number {
    let slot = this.#free.pop();
    if (slot === undefined && this.#slots.size >= this.#maxClients) {
      this.#overflowHits++;
      if (!this.#evict) return OVERFLOW_SLOT;
      const [oldest, oldestSlot] = this.#slots.entries().next().value as [string, number];
      this.#slots.delete(oldest);
      this.#clear(oldestSlot);
      slot = oldestSlot;
    }
    if (slot === undefined) {
      // Grow by a quarter (at least 1024 slots): doubling would leave up to half the arrays unused.
      if (this.#used >= this.#capacity) this.#grow(Math.min(this.#capacity + Math.max(1024, this.#capacity >> 2), this.#maxClients + 1));
      slot = this.#used++;
    }
    this.#last[slot] = bucket;
    this.#slots.set(key, slot);
    return slot;
  }

  /** Zeroes the buckets that left the ring between the slot's last bucket and `bucket`. */
  #advance(slot: number, bucket: number): void {
    const last = this.#last[slot] as number;
    if (bucket === last) return;
    const ring = this.#ring;
    if (bucket - last >= ring) {
      this.#clear(slot);
    } else {
      const base = slot * ring;
      let total = this.#totals[slot] as number;
      for (let b = last + 1; b <= bucket; b++) {
        const index = base + (b % ring);
        total -= this.#counts[index] as number;
        this.#counts[index] = 0;
      }
      this.#totals[slot] = total;
    }
    this.#last[slot] = bucket;
  }

  /**
   * The instant (elapsed ms) after which bucket `j` stops counting, minus the window: its last
   * possible request, which for the newest non-empty bucket is the latest admission itself.
   */
  #lastInstant(slot: number, j: number, newest: boolean): number {
    return newest ? j * this.#bucketMs + (this.#offsets[slot] as number) : (j + 1) * this.#bucketMs - 1;
  }

  /** Drops the oldest buckets whose requests are all a full window old. */
  #expire(slot: number, bucket: number, elapsed: number): void {
    const ring = this.#ring;
    const base = slot * ring;
    let total = this.#totals[slot] as number;
    for (let j = Math.max(0, bucket - ring + 1); j <= bucket && total > 0; j++) {
      const index = base + (j % ring);
      const count = this.#counts[index] as number;
      if (count === 0) continue;
      if (elapsed < this.#lastInstant(slot, j, count === total) + this.windowMs) break;
      this.#counts[index] = 0;
      total -= count;
    }
    this.#totals[slot] = total;
  }

  /** Milliseconds until `needed` counted requests have left the window (at most the window). */
  #waitMs(slot: number, bucket: number, elapsed: number, needed: number): number {
    const ring = this.#ring;
    const base = slot * ring;
    const total = this.#totals[slot] as number;
    let freed = 0;
    for (let j = Math.max(0, bucket - ring + 1); j <= bucket; j++) {
      const count = this.#counts[base + (j % ring)] as number;
      if (count === 0) continue;
      freed += count;
      if (freed >= needed) return Math.max(0, this.#lastInstant(slot, j, freed === total) + this.windowMs - elapsed);
    }
    return this.windowMs;
  }

  #clear(slot: number): void {
    const base = slot * this.#ring;
    this.#counts.fill(0, base, base + this.#ring);
    this.#totals[slot] = 0;
  }

  #grow(capacity: number): void {
    if (capacity <= this.#capacity) return;
    const counts = this.#wide ? new Uint32Array(capacity * this.#ring) : new Uint16Array(capacity * this.#ring);
    counts.set(this.#counts);
    const totals = new Uint32Array(capacity);
    totals.set(this.#totals);
    const last = new Float64Array(capacity);
    last.set(this.#last);
    const offsets = this.#bucketMs > 0xffff ? new Uint32Array(capacity) : new Uint16Array(capacity);
    offsets.set(this.#offsets);
    this.#offsets = offsets;
    this.#counts = counts;
    this.#totals = totals;
    this.#last = last;
    this.#capacity = capacity;
  }
}
