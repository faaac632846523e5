/**
 * @module observability/refusal-aggregator
 * Folds floods of refused requests into a bounded number of records. Per interval, the first
 * refusal of a kind from a client is written at once (an operator sees it immediately); the
 * rest are only counted, and one summary per client and kind carries the count when the
 * interval ends (or at shutdown). N refusals from one client therefore cost O(intervals)
 * records, not N, whether they go to the audit trail or the request log.
 *
 * The table is bounded: once `maxTracked` client/kind pairs are tracked in an interval, refusals
 * from further clients are counted in one "others" aggregate per kind. Counts are never
 * dropped: every refusal is either written on its own or counted in exactly one summary.
 */

/** Pairs of (client, kind) tracked per interval by default (~200 bytes each). */
export const DEFAULT_MAX_TRACKED = 10_000;
/** Distinct kinds of the "others" aggregate; more fold into one kind named `*`. */
const MAX_OTHER_KINDS = 64;
/** How often the interval end is checked (the clock decides whether it has come). */
const MAX_CHECK_MS = 1000;

/** One summary: `count` refusals of `kind` that were not written individually. */
export interface RefusalSummary<L> {
  readonly kind: string;
  /** What the first refusal of this client and kind said (for "others": of the first overflowed one). */
  readonly label: L;
  /** True for the aggregate of clients beyond the table's bound (`label` then names no client). */
  readonly others: boolean;
  /** Refusals folded into this summary (never written on their own). */
  readonly count: number;
  /** Clock times (ms) of the first and last refusal counted. */
  readonly first: number;
  readonly last: number;
}

export interface RefusalAggregatorOptions<L> {
  /** Length of an interval; 0 turns aggregation off (every refusal is written). */
  readonly intervalMs: number;
  readonly maxTracked?: number;
  /** Clock in ms (tests advance it instead of sleeping). */
  readonly now?: () => number;
  /** Receives each summary at the end of an interval and on {@link RefusalAggregator.close}. */
  readonly onSummary: (summary: RefusalSummary<L>) => void;
}

interface Entry<L> {
  readonly kind: string;
  readonly label: L;
  count: number;
  first: number;
  last: number;
}

/**
 * @example
 * const refusals = new RefusalAggregator<{ ip: string }>({ intervalMs: 60_000, onSummary: (s) => log(s) });
 * if (refusals.note('auth_failure:unknown_key', ip, { ip })) log({ event: 'auth_failure', ip });
 */
export class RefusalAggregator<L> {
  readonly #intervalMs: number;
  readonly #maxTracked: number;
  readonly #now: () => number;
  readonly #onSummary: (summary: RefusalSummary<L>) => void;
  readonly #tracked = new Map<string, Entry<L>>();
  readonly #others = new Map<string, Entry<L>>();
  #end = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: RefusalAggregatorOptions<L>) {
    this.#intervalMs = options.intervalMs;
    this.#maxTracked = Math.max(1, options.maxTracked ?? DEFAULT_MAX_TRACKED);
    this.#now = options.now ?? Date.now;
    this.#onSummary = options.onSummary;
    if (this.#intervalMs > 0) {
      this.#timer = setInterval(() => this.#rollover(), Math.min(this.#intervalMs, MAX_CHECK_MS));
      this.#timer.unref();
    }
  }

  /** False when aggregation is off (every refusal is written). */
  get enabled(): boolean {
    return this.#intervalMs > 0;
  }

  /**
   * Counts one refusal of `kind` from `client`. True when it is the first of the interval and
   * must be written now; false when it was counted toward a summary. `label` is kept only
   * from the first refusal (callers may pass a fresh object each time).
   */
  note(kind: string, client: string, label: L): boolean {
    if (this.#intervalMs <= 0) return true;
    const now = this.#now();
    this.#rollover(now);
    if (this.#tracked.size === 0 && this.#others.size === 0) this.#end = now + this.#intervalMs;
    const key = `${kind}\u0000${client}`;
    const entry = this.#tracked.get(key);
    if (entry !== undefined) {
      if (entry.count === 0) entry.first = now;
      entry.count++;
      entry.last = now;
      return false;
    }
    if (this.#tracked.size < this.#maxTracked) {
      this.#tracked.set(key, { kind, label, count: 0, first: now, last: now });
      return true;
    }
    const otherKind = this.#others.has(kind) || this.#others.size < MAX_OTHER_KINDS ? kind : '*';
    const other = this.#others.get(otherKind);
    if (other === undefined) this.#others.set(otherKind, { kind: otherKind, label, count: 1, first: now, last: now });
    else {
      other.count++;
      other.last = now;
    }
    return false;
  }

  /** Emits every pending summary and starts a new interval. */
  flush(): void {
    const tracked = [...this.#tracked.values()];
    const others = [...this.#others.values()];
    this.#tracked.clear();
    this.#others.clear();
    for (const entry of tracked) if (entry.count > 0) this.#emit(entry, false);
    for (const entry of others) this.#emit(entry, true);
  }

  /** Flushes and stops the interval timer (at shutdown). */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.flush();
  }

  #rollover(now = this.#now()): void {
    if ((this.#tracked.size > 0 || this.#others.size > 0) && now >= this.#end) this.flush();
  }

  #emit(entry: Entry<L>, others: boolean): void {
    this.#onSummary({ kind: entry.kind, label: entry.label, others, count: entry.count, first: entry.first, last: entry.last });
  }
}
