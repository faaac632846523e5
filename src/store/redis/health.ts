/**
 * @module store/redis/health
 * What `/health` and `mcp_warden_redis_up` say about Redis: not only whether the socket is up,
 * but whether calls succeed. Failed calls are kept for a short window (10 s by default); when at
 * least `minFailures` of them fail and they are at least `minRatio` of the calls made, Redis is
 * degraded, with the most frequent failure kind as the reason (`redis_timeouts`, `redis_oom`,
 * `redis_down`, `redis_errors`). The clock is injectable so tests can move the window.
 */

export type RedisFailureKind = 'redis_down' | 'redis_timeouts' | 'redis_oom' | 'redis_errors';

export interface RedisHealthOptions {
  /** Window over which failures count, ms (default 10,000). */
  readonly windowMs?: number;
  /** Failures within the window that make Redis degraded (default 3). */
  readonly minFailures?: number;
  /** Share of failed calls within the window that makes Redis degraded (default 0.05). */
  readonly minRatio?: number;
  readonly now?: () => number;
}

/** Sorts a Redis error into a health reason. */
export function failureKind(error: unknown): RedisFailureKind {
  const message = String((error as Error | undefined)?.message ?? error);
  if (/timed? ?out/i.test(message)) return 'redis_timeouts';
  if (/^OOM|OOM command not allowed|maxmemory/i.test(message)) return 'redis_oom';
  if (/ECONNREFUSED|ECONNRESET|EPIPE|closed|unavailable|writeable|not connected|Stream isn't/i.test(message)) return 'redis_down';
  return 'redis_errors';
}

export class RedisHealth {
  readonly #windowMs: number;
  readonly #minFailures: number;
  readonly #minRatio: number;
  readonly #now: () => number;
  /** Failures as [time, kind], oldest first. */
  #failures: Array<[number, RedisFailureKind]> = [];
  /** Successes per second of the window (time → count), to compute the ratio cheaply. */
  readonly #successes = new Map<number, number>();

  constructor(options: RedisHealthOptions = {}) {
    this.#windowMs = options.windowMs ?? 10_000;
    this.#minFailures = options.minFailures ?? 3;
    this.#minRatio = options.minRatio ?? 0.05;
    this.#now = options.now ?? Date.now;
  }

  failure(error: unknown): RedisFailureKind {
    const kind = failureKind(error);
    this.#failures.push([this.#now(), kind]);
    // Bounded: only the count inside the window matters, and a flood of failures is old news fast.
    if (this.#failures.length > 10_000) this.#failures.splice(0, this.#failures.length - 10_000);
    return kind;
  }

  /** Forgets past failures (the connection came back: what failed while it was down is explained). */
  clear(): void {
    this.#failures = [];
  }

  success(): void {
    const second = Math.floor(this.#now() / 1000);
    const count = this.#successes.get(second);
    if (count !== undefined) {
      this.#successes.set(second, count + 1);
      return;
    }
    // A new second: forget the seconds that left the window (healthy replicas never call reason()
    // past its early return, so pruning there alone would keep one entry per second for ever).
    this.#pruneSuccesses(this.#now() - this.#windowMs);
    this.#successes.set(second, 1);
  }

  /** Seconds of successes held (bounded by the window). */
  get trackedSeconds(): number {
    return this.#successes.size;
  }

  #pruneSuccesses(since: number): void {
    for (const second of this.#successes.keys()) {
      if (second * 1000 < since - 1000) this.#successes.delete(second);
    }
  }

  /** The reason Redis is degraded by its recent error rate, or undefined when calls succeed. */
  reason(): RedisFailureKind | undefined {
    const now = this.#now();
    const since = now - this.#windowMs;
    let drop = 0;
    while (drop < this.#failures.length && (this.#failures[drop] as [number, RedisFailureKind])[0] < since) drop++;
    if (drop > 0) this.#failures = this.#failures.slice(drop);
    if (this.#failures.length < this.#minFailures) return undefined;
    this.#pruneSuccesses(since);
    let successes = 0;
    for (const count of this.#successes.values()) successes += count;
    if (this.#failures.length / (this.#failures.length + successes) < this.#minRatio) return undefined;
    const counts = new Map<RedisFailureKind, number>();
    for (const [, kind] of this.#failures) counts.set(kind, (counts.get(kind) ?? 0) + 1);
    let worst: RedisFailureKind = 'redis_errors';
    let most = 0;
    for (const [kind, count] of counts) {
      if (count > most) {
        worst = kind;
        most = count;
      }
    }
    return worst;
  }
}
