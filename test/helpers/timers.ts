/**
 * Timers tests fire by hand, for the gateway's upstream layer (spawn and call timeouts, the
 * SIGKILL deadline, restart backoff, the stderr budget): pass it as `timers` and call `advance`
 * instead of sleeping. `pending` lists what is scheduled, so a test can wait until a timer exists.
 */

import type { Timers } from '../../src/gateway/timers.js';

export interface ManualTimers extends Timers {
  /** Moves the clock and runs every timer due by then, in order. */
  advance(ms: number): void;
  /** Delays (ms from now) of the timers scheduled now. */
  pending(): number[];
}

export function manualTimers(start = Date.now()): ManualTimers {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    now: () => now,
    setTimeout(callback, ms) {
      const id = ++seq;
      timers.set(id, { at: now + ms, callback });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, timer]) => timer.at <= until).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
        if (due === undefined) break;
        timers.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].callback();
      }
      now = until;
    },
    pending: () => [...timers.values()].map((timer) => timer.at - now),
  };
}
