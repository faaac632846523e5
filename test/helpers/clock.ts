/**
 * A clock tests move by hand, for everything that expires (keys, tokens, sessions, streams):
 * pass `clock.now` as the server's `clock` option and call `advance` instead of sleeping.
 */

export interface ManualClock {
  readonly now: () => number;
  advance(ms: number): void;
}

/** Starts at the real time (so dates written to keys files line up) and moves only when told. */
export function manualClock(start = Date.now()): ManualClock {
  let current = start;
  return {
    now: () => current,
    advance(ms) {
      current += ms;
    },
  };
}
