/**
 * @module store/types
 * The narrow interfaces behind which shared state lives. Each has a memory implementation
 * (the embedded default) and may have others (Redis for several replicas); one contract test
 * suite runs against every implementation.
 */

/** Outcome of counting one request against a rolling-window limit. */
export interface RateLimitDecision {
  readonly allowed: boolean;
  readonly limit: number;
  /** Requests still allowed in the current window after this one (0 when denied). */
  readonly remaining: number;
  /**
   * Milliseconds until at least one more request fits: when denied, how long to wait; when
   * allowed, when the oldest counted request leaves the window.
   */
  readonly resetMs: number;
}

/**
 * A rolling-window counter. Guarantee every implementation must keep: for any key, no window
 * of the store's length ever contains more than `limit` allowed requests.
 */
export interface RateLimitStore {
  /** Window length in milliseconds, fixed per store. */
  readonly windowMs: number;
  /** Counts one request for `key` if it fits under `limit`; denied requests are not counted. */
  consume(key: string, limit: number): RateLimitDecision | Promise<RateLimitDecision>;
  /** Forgets `key` (used by tests and key revocation). */
  reset(key: string): void | Promise<void>;
  /** Number of keys currently tracked. */
  readonly size: number;
  close(): void | Promise<void>;
}
