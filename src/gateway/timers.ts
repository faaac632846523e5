/**
 * @module gateway/timers
 * The clock and timers of the gateway's upstream layer, injectable so that tests move time by
 * hand (spawn timeouts, call timeouts, the SIGKILL deadline, restart backoff, the stderr budget)
 * instead of sleeping on wall-clock margins.
 */

/** A cancellable timer and a clock. `realTimers` is the production one. */
export interface Timers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Wall-clock timers; they do not keep the process alive on their own (`unref`). */
export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** Resolves after `ms` on `timers`, or rejects with `signal`'s reason when it aborts first. */
export function delay(timers: Timers, ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      timers.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal?.aborted === true) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
