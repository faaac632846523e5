/**
 * @module store/rolling-window
 * The geometry of the rolling-window rate limit, shared by the memory and Redis limiters so
 * both count in the same buckets and announce the same waits: a window is cut into about 32
 * buckets of at least 50 ms, and a client's ring holds one bucket more than the window spans
 * (the bucket in progress).
 */

/** Buckets per window (precision) unless a limiter asks for another count. */
export const BUCKETS_PER_WINDOW = 32;

/** The shortest bucket, ms: finer buckets cost memory and Redis fields for no useful precision. */
export const MIN_BUCKET_MS = 50;

/** How a window is cut into buckets. */
export interface WindowGeometry {
  /** Milliseconds per bucket. */
  readonly bucketMs: number;
  /** Buckets held per client: enough to cover the window, plus the bucket in progress. */
  readonly ring: number;
}

/**
 * Milliseconds per bucket for a window: about 1/32 of it, at least 50 ms.
 *
 * @example
 * bucketMsFor(60_000); // 1875
 */
export function bucketMsFor(windowMs: number, buckets = BUCKETS_PER_WINDOW): number {
  return Math.max(MIN_BUCKET_MS, Math.ceil(windowMs / buckets));
}

/**
 * The bucket size and ring length for a window.
 *
 * @example
 * windowGeometry(60_000); // { bucketMs: 1875, ring: 33 }
 */
export function windowGeometry(windowMs: number, buckets = BUCKETS_PER_WINDOW): WindowGeometry {
  const bucketMs = bucketMsFor(windowMs, buckets);
  return { bucketMs, ring: Math.ceil(windowMs / bucketMs) + 1 };
}
