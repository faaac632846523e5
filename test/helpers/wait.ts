/**
 * Waiting in tests, in one place: `sleep` for the few waits that real time drives (Redis TTLs,
 * another process's heartbeat), and `within` (what other suites call `eventually`) to poll a condition that
 * another process or replica makes true. Anything the server expires runs on the injectable
 * clock instead (`test/helpers/clock.ts`).
 */

/** Resolves after `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` every `everyMs` until it holds, up to `ms` of real time; returns the time it
 * took, or throws when it never held.
 *
 * @example
 * const took = await within(1000, async () => (await apiTools(warden, key)).status === 401);
 */
export async function within(ms: number, check: () => boolean | Promise<boolean>, everyMs = 20): Promise<number> {
  const started = Date.now();
  if (!(await until(check, ms, everyMs))) throw new Error(`condition not met within ${ms} ms`);
  return Date.now() - started;
}

/**
 * Polls `check` every `everyMs` until it holds or `ms` of real time passed; says which, for
 * tests that assert on it (`expect(await until(() => closed, 3000)).toBe(true)`).
 */
export async function until(check: () => boolean | Promise<boolean>, ms: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}
