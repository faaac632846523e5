/**
 * @module store/memory/rate-limit
 * An exact rolling-window rate limiter in bounded memory.
 *
 * Each client has a ring of R small counters, one per bucket of `bucketMs`. A request at time t
 * is admitted only when the sum of the last R buckets is below the limit. Those buckets span at
 * least the window before t (R = ceil(window / bucket) + 1), so the count is conservative: it
 * may include requests slightly older than the window, never fewer than those inside it. Hence
 * no closed interval of the window's length ever holds more than `limit` admitted requests
 * (the guarantee a fixed window breaks at its boundary), at the price of denying up to one
 * bucket longer than a perfect log would.
 *
 * Memory: all clients share typed arrays (struct of arrays); a client costs R two-byte
 * counters, a total and a bucket index, plus its Map entry. Idle clients are swept; the table
 * never grows past `maxClients`; beyond it, new clients share one overflow counter, so an
 * address flood costs throughput for newcomers, never memory or the guarantee.
 */

import type { RateLimitDecision, RateLimitStore } from '../types.js';

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
}

const OVERFLOW_SLOT = 0;
const INITIAL_CAPACITY = 1024;

/** Milliseconds per bucket for a window: about 1/32 of it, at least 50 ms. */
export function bucketMsFor(windowMs: number, buckets = 32): number {
  return Math.max(50, Math.ceil(windowMs / buckets));
}

/** The memory implementation of {@link RateLimitStore}. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly windowMs: number;
  readonly #bucketMs: number;
  readonly #ring: number;
  readonly #maxClients: number;
  readonly #now: () => number;
  readonly #origin: number;
  readonly #wide: boolean;
  readonly #slots = new Map<string, number>();
  readonly #free: number[] = [];
  #capacity = 0;
  #used = 1; // slot 0 is the shared overflow counter
  #counts: Uint16Array | Uint32Array = new Uint16Array(0);
  #totals = new Uint32Array(0);
  #last = new Float64Array(0);
  #overflowHits = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryRateLimitOptions) {
    if (!(options.windowMs > 0)) throw new RangeError('windowMs must be positive');
    this.windowMs = options.windowMs;
    this.#bucketMs = bucketMsFor(options.windowMs, options.buckets);
    this.#ring = Math.ceil(options.windowMs / this.#bucketMs) + 1;
    this.#maxClients = options.maxClients ?? 200_000;
    this.#now = options.now ?? (() => performance.now());
    this.#origin = this.#now();
    this.#wide = options.maxLimit > 0xffff;
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
    return this.#counts.byteLength + this.#totals.byteLength + this.#last.byteLength;
  }

  consume(key: string, limit: number): RateLimitDecision {
    const bucket = Math.floor((this.#now() - this.#origin) / this.#bucketMs);
    let slot = this.#slots.get(key);
    if (slot === undefined) slot = this.#allocate(key, bucket);
    this.#advance(slot, bucket);
    const total = this.#totals[slot] as number;
    if (total >= limit) {
      return { allowed: false, limit, remaining: 0, resetMs: this.#waitMs(slot, bucket, total - limit + 1) };
    }
    const index = slot * this.#ring + (bucket % this.#ring);
    this.#counts[index] = (this.#counts[index] as number) + 1;
    this.#totals[slot] = total + 1;
    return { allowed: true, limit, remaining: limit - total - 1, resetMs: this.#waitMs(slot, bucket, 1) };
  }

  /**
   * Counts `count` requests for `key` that were admitted elsewhere (the shared store), whatever
   * the limit: the local count then knows what this replica let through, for the fallback's
   * share and for re-seeding an emptied Redis.
   */
  record(key: string, count = 1): void {
    const bucket = Math.floor((this.#now() - this.#origin) / this.#bucketMs);
    let slot = this.#slots.get(key);
    if (slot === undefined) slot = this.#allocate(key, bucket);
    this.#advance(slot, bucket);
    const index = slot * this.#ring + (bucket % this.#ring);
    const max = this.#wide ? 0xffffffff : 0xffff;
    const added = Math.max(0, Math.min(max - (this.#counts[index] as number), count));
    this.#counts[index] = (this.#counts[index] as number) + added;
    this.#totals[slot] = (this.#totals[slot] as number) + added;
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
    if (slot === undefined) {
      if (this.#slots.size >= this.#maxClients) {
        this.#overflowHits++;
        return OVERFLOW_SLOT;
      }
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

  /** Milliseconds until `needed` counted requests have left the window. */
  #waitMs(slot: number, bucket: number, needed: number): number {
    const ring = this.#ring;
    const base = slot * ring;
    const elapsed = this.#now() - this.#origin;
    let freed = 0;
    // Bucket j stops being counted once the current bucket reaches j + ring.
    for (let j = bucket - ring + 1; j <= bucket; j++) {
      if (j < 0) continue;
      freed += this.#counts[base + (j % ring)] as number;
      if (freed >= needed) return Math.max(0, (j + ring) * this.#bucketMs - elapsed);
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
    this.#counts = counts;
    this.#totals = totals;
    this.#last = last;
    this.#capacity = capacity;
  }
}
