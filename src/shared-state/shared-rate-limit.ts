/**
 * @module shared-state/shared-rate-limit
 * The failure policy around the shared (Redis) limiter. Redis answers within its short
 * timeout or the call fails; then `open` (default) answers from this replica's own memory
 * limiter, and `closed` refuses the request with 503. Either way no request waits longer than
 * that timeout, fallbacks are counted and logged, and shared limiting resumes by itself when Redis is back.
 *
 * One rule keeps the fallback from multiplying the limit:
 * - every request Redis admits is also counted locally (against the full limit, see below),
 *   so the local count always knows what this replica let through in the current window;
 * - a call that fails or times out (its script may or may not have run in Redis) is answered
 *   by the local limiter against this replica's share, ceil(limit / live replicas), and counted
 *   there if admitted. The local store only ever refuses what the share does not cover, so a
 *   timed-out call is never admitted twice over, and N replicas admit about the limit in total.
 * After Redis lost its data (`reseed`), the local counts are written back to it.
 *
 * The local count is also a cap Redis cannot lift: a request Redis admits is counted locally
 * against the full limit (not the share), and refused when this replica already admitted the
 * limit in its own window. A Redis writer who keeps deleting counters then gets at most the
 * limit per window from each replica (limit × replicas in the cluster), never unlimited. The
 * local window runs on this replica's clock (`fallback`'s `now`), not Redis TIME; the two agree
 * to within a bucket, and a request refused here carries the local wait.
 */

import { WardenError } from '../errors.js';
import type { RateLimitDecision, RateLimitStore } from '../store/types.js';

export type FailurePolicy = 'open' | 'closed';

/** The local limiter of the fallback: a store that can list what it counted (to re-seed an emptied Redis). */
export interface LocalRateLimitStore extends RateLimitStore {
  counts(): Iterable<[string, number]>;
}

/** The shared limiter: a store that can be re-seeded after Redis lost its data. */
export interface SeedableRateLimitStore extends RateLimitStore {
  seed(key: string, count: number): Promise<void>;
}

export interface SharedRateLimitOptions {
  readonly shared: SeedableRateLimitStore;
  readonly fallback: LocalRateLimitStore;
  readonly policy: FailurePolicy;
  /** Whether the shared store is believed reachable (skip it at once when not). */
  readonly healthy: () => boolean;
  /** Live replicas sharing the limit (from heartbeats; 1 when unknown). */
  readonly replicas?: () => number;
  /** Called for every call answered without the shared store. */
  readonly onFallback: (error: unknown) => void;
  /** Called for every call the shared store answered. */
  readonly onSuccess?: () => void;
  /** Called for every request Redis admitted that the local cap refused (counters deleted or lost). */
  readonly onLocalCap?: (key: string) => void;
}

export class SharedRateLimitStore implements RateLimitStore {
  readonly windowMs: number;
  readonly #options: SharedRateLimitOptions;

  constructor(options: SharedRateLimitOptions) {
    if (options.shared.windowMs !== options.fallback.windowMs) throw new RangeError('shared and fallback windows differ');
    this.windowMs = options.shared.windowMs;
    this.#options = options;
  }

  get size(): number {
    return this.#options.fallback.size;
  }

  consume(key: string, limit: number): RateLimitDecision | Promise<RateLimitDecision> {
    const { shared, healthy, fallback } = this.#options;
    if (!healthy()) return this.#degraded(key, limit, new Error('redis unavailable'));
    return (shared.consume(key, limit) as Promise<RateLimitDecision>).then(
      (decision) => {
        this.#options.onSuccess?.();
        return decision.allowed ? this.#capped(key, limit, decision) : decision;
      },
      (error: unknown) => this.#degraded(key, limit, error),
    );
  }

  async reset(key: string): Promise<void> {
    await this.#options.fallback.reset(key);
    try {
      await this.#options.shared.reset(key);
    } catch (error) {
      this.#options.onFallback(error);
    }
  }

  /** Writes what this replica counted in the current window back to an emptied shared store. */
  async reseed(): Promise<number> {
    let seeded = 0;
    for (const [key, count] of this.#options.fallback.counts()) {
      await this.#options.shared.seed(key, count);
      seeded++;
    }
    return seeded;
  }

  close(): void {
    void this.#options.fallback.close();
  }

  /** Counts a request Redis admitted against this replica's own window for the full limit. */
  #capped(key: string, limit: number, decision: RateLimitDecision): RateLimitDecision {
    const local = this.#options.fallback.consume(key, limit) as RateLimitDecision;
    if (local.allowed) return decision;
    this.#options.onLocalCap?.(key);
    return { allowed: false, limit, remaining: 0, resetMs: local.resetMs };
  }

  #degraded(key: string, limit: number, error: unknown): RateLimitDecision | Promise<RateLimitDecision> {
    this.#options.onFallback(error);
    if (this.#options.policy === 'closed') return Promise.reject(new WardenError('WARDEN_ERR_SHARED_STATE_UNAVAILABLE', { reason: 'redis', cause: error }));
    const replicas = Math.max(1, this.#options.replicas?.() ?? 1);
    const share = Math.ceil(limit / replicas);
    const decision = this.#options.fallback.consume(key, share) as RateLimitDecision;
    // The client sees the limit it was promised, not the share (its remaining count is the share's).
    return { ...decision, limit };
  }
}
