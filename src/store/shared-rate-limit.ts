/**
 * @module store/shared-rate-limit
 * The failure policy around the shared (Redis) limiter. Redis answers within its short
 * timeout or the call fails; then `open` (default) answers from this replica's own memory
 * limiter, and `closed` refuses the request with 503. Either way no request waits for Redis,
 * fallbacks are counted and logged, and shared limiting resumes by itself when Redis is back.
 */

import { WardenError } from '../errors.js';
import type { RateLimitDecision, RateLimitStore } from './types.js';

export type FailurePolicy = 'open' | 'closed';

export interface SharedRateLimitOptions {
  readonly shared: RateLimitStore;
  readonly fallback: RateLimitStore;
  readonly policy: FailurePolicy;
  /** Whether the shared store is believed reachable (skip it at once when not). */
  readonly healthy: () => boolean;
  /** Called for every call answered without the shared store. */
  readonly onFallback: (error: unknown) => void;
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
    const { shared, healthy } = this.#options;
    if (!healthy()) return this.#degraded(key, limit, new Error('redis unavailable'));
    return (shared.consume(key, limit) as Promise<RateLimitDecision>).catch((error: unknown) => this.#degraded(key, limit, error));
  }

  async reset(key: string): Promise<void> {
    await this.#options.fallback.reset(key);
    try {
      await this.#options.shared.reset(key);
    } catch (error) {
      this.#options.onFallback(error);
    }
  }

  close(): void {
    void this.#options.fallback.close();
  }

  #degraded(key: string, limit: number, error: unknown): RateLimitDecision | Promise<RateLimitDecision> {
    this.#options.onFallback(error);
    if (this.#options.policy === 'closed') return Promise.reject(new WardenError('WARDEN_ERR_SHARED_STATE_UNAVAILABLE', { reason: 'redis', cause: error }));
    return this.#options.fallback.consume(key, limit);
  }
}
