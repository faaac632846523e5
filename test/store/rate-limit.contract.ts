/**
 * The contract every RateLimitStore must keep, run against each implementation:
 * never more than `limit` admitted requests in any window [t, t + window) of the store's
 * length, and a refused client is told the exact wait (never more than the window).
 */

import { describe, expect, it } from 'vitest';
import type { RateLimitStore } from '../../src/store/types.js';

/**
 * A store under test driven by a fake clock it was built with. The clock starts on a bucket
 * boundary (elapsed 0 for the memory store, a multiple of the bucket for Redis), so both
 * stores meet the same bucket edges and announce the same waits.
 */
export interface StoreHarness {
  readonly store: RateLimitStore;
  /** Moves the store's clock forward. */
  advance(ms: number): Promise<void> | void;
  close(): Promise<void> | void;
}

export type HarnessFactory = (windowMs: number, maxLimit: number) => Promise<StoreHarness> | StoreHarness;

/** A deterministic pseudo-random sequence (mulberry32), so failures reproduce. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function rateLimitContract(name: string, factory: HarnessFactory): void {
  describe(`RateLimitStore contract: ${name}`, () => {
    it('admits exactly `limit` requests at once, then denies with a wait', async () => {
      const harness = await factory(60_000, 100);
      for (let index = 0; index < 5; index++) {
        const decision = await harness.store.consume('a', 5);
        expect(decision).toMatchObject({ allowed: true, limit: 5, remaining: 4 - index });
      }
      const denied = await harness.store.consume('a', 5);
      expect(denied.allowed).toBe(false);
      expect(denied.remaining).toBe(0);
      // A burst at one instant: the wait is the whole window, exactly (never window + a bucket).
      expect(denied.resetMs).toBe(60_000);
      await harness.close();
    });

    it('keys are independent', async () => {
      const harness = await factory(10_000, 100);
      for (let index = 0; index < 3; index++) expect((await harness.store.consume('a', 3)).allowed).toBe(true);
      expect((await harness.store.consume('a', 3)).allowed).toBe(false);
      expect((await harness.store.consume('b', 3)).allowed).toBe(true);
      await harness.close();
    });

    it('admits again once the wait it announced has passed', async () => {
      const harness = await factory(10_000, 100);
      for (let index = 0; index < 3; index++) await harness.store.consume('a', 3);
      const denied = await harness.store.consume('a', 3);
      expect(denied.allowed).toBe(false);
      await harness.advance(denied.resetMs - 1);
      expect((await harness.store.consume('a', 3)).allowed).toBe(false);
      await harness.advance(2);
      expect((await harness.store.consume('a', 3)).allowed).toBe(true);
      await harness.close();
    });

    it('denied requests are not counted', async () => {
      const harness = await factory(10_000, 100);
      await harness.store.consume('a', 1);
      for (let index = 0; index < 50; index++) await harness.store.consume('a', 1);
      await harness.advance(11_000);
      expect((await harness.store.consume('a', 1)).allowed).toBe(true);
      await harness.close();
    });

    it('a fixed-window burst across a boundary is refused (no 2N in one window)', async () => {
      const harness = await factory(10_000, 100);
      await harness.advance(9_900);
      let admitted = 0;
      for (let index = 0; index < 10; index++) if ((await harness.store.consume('a', 10)).allowed) admitted++;
      await harness.advance(200);
      for (let index = 0; index < 10; index++) if ((await harness.store.consume('a', 10)).allowed) admitted++;
      expect(admitted).toBe(10);
      await harness.close();
    });

    it('never admits more than `limit` in any rolling window (randomized traffic)', async () => {
      const windowMs = 5_000;
      const limit = 20;
      const harness = await factory(windowMs, 100);
      const random = seeded(42);
      const admittedAt: number[] = [];
      let now = 0;
      let denied = 0;
      for (let step = 0; step < 3_000; step++) {
        const gap = random() < 0.7 ? Math.floor(random() * 40) : Math.floor(random() * 1_500);
        await harness.advance(gap);
        now += gap;
        const decision = await harness.store.consume('client', limit);
        if (decision.allowed) admittedAt.push(now);
        else denied++;
      }
      // Every interval [t, t + window) holds at most `limit` admissions. (Half-open: a client
      // told to wait until t + window is admitted then, so Retry-After never exceeds the window.)
      for (let start = 0, end = 0; start < admittedAt.length; start++) {
        while (end < admittedAt.length && (admittedAt[end] as number) - (admittedAt[start] as number) < windowMs) end++;
        expect(end - start).toBeLessThanOrEqual(limit);
      }
      expect(denied).toBeGreaterThan(0);
      // Conservative, not starving: well over half the ideal throughput is still admitted.
      expect(admittedAt.length).toBeGreaterThan((now / windowMs) * limit * 0.6);
      await harness.close();
    });

    it('announces the exact wait until admission at every point of the window (Retry-After, RateLimit-Reset)', async () => {
      // 60 s window: buckets of 1875 ms. A request's bucket counts until its last possible
      // instant ((j + 1) * 1875 - 1), or the latest admission itself for the newest bucket,
      // plus the window.
      const harness = await factory(60_000, 100);
      const { store } = harness;
      expect(await store.consume('a', 3)).toEqual({ allowed: true, limit: 3, remaining: 2, resetMs: 60_000 }); // t = 0
      await harness.advance(10_000);
      expect(await store.consume('a', 3)).toEqual({ allowed: true, limit: 3, remaining: 1, resetMs: 1_874 + 60_000 - 10_000 });
      await harness.advance(20_000);
      expect(await store.consume('a', 3)).toEqual({ allowed: true, limit: 3, remaining: 0, resetMs: 31_874 });
      expect(await store.consume('a', 3)).toEqual({ allowed: false, limit: 3, remaining: 0, resetMs: 31_874 }); // Retry-After: 32
      await harness.advance(31_873);
      expect(await store.consume('a', 3)).toEqual({ allowed: false, limit: 3, remaining: 0, resetMs: 1 });
      await harness.advance(1); // t = 61 874: the first request's bucket has left the window
      expect(await store.consume('a', 3)).toEqual({ allowed: true, limit: 3, remaining: 0, resetMs: 11_249 + 60_000 - 61_874 });
      expect(await store.consume('a', 3)).toEqual({ allowed: false, limit: 3, remaining: 0, resetMs: 9_375 });

      // A burst: the wait is the window itself, then exactly admission.
      await harness.advance(500);
      for (let index = 0; index < 3; index++) await store.consume('b', 3);
      expect(await store.consume('b', 3)).toMatchObject({ allowed: false, resetMs: 60_000 }); // Retry-After: 60, never 62
      await harness.advance(59_999);
      expect(await store.consume('b', 3)).toMatchObject({ allowed: false, resetMs: 1 });
      await harness.advance(1);
      // The whole burst left the window at once.
      expect(await store.consume('b', 3)).toMatchObject({ allowed: true, remaining: 2 });
      await harness.close();
    });

    it('a refused client is admitted exactly when told, never later than a window (randomized traffic)', async () => {
      const windowMs = 5_000;
      const harness = await factory(windowMs, 100);
      const random = seeded(7);
      let refusals = 0;
      for (let step = 0; step < 600; step++) {
        await harness.advance(random() < 0.8 ? Math.floor(random() * 60) : Math.floor(random() * 2_000));
        const decision = await harness.store.consume('client', 8);
        expect(decision.resetMs).toBeLessThanOrEqual(windowMs);
        if (decision.allowed) continue;
        refusals++;
        expect(decision.resetMs).toBeGreaterThan(0);
        if (decision.resetMs > 1) {
          await harness.advance(decision.resetMs - 1);
          expect((await harness.store.consume('client', 8)).allowed).toBe(false);
          await harness.advance(1);
        } else {
          await harness.advance(decision.resetMs);
        }
        expect((await harness.store.consume('client', 8)).allowed).toBe(true);
      }
      expect(refusals).toBeGreaterThan(10);
      await harness.close();
    });

    it('reset forgets a key', async () => {
      const harness = await factory(10_000, 100);
      await harness.store.consume('a', 1);
      expect((await harness.store.consume('a', 1)).allowed).toBe(false);
      await harness.store.reset('a');
      expect((await harness.store.consume('a', 1)).allowed).toBe(true);
      await harness.close();
    });
  });
}
