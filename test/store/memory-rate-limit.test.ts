/**
 * The memory rate limiter: the shared contract, plus its own bounds (idle clients swept,
 * table size capped with a shared overflow counter, 16-bit counters by default).
 */

import { describe, expect, it } from 'vitest';
import { MemoryRateLimitStore } from '../../src/store/memory/rate-limit.js';
import { bucketMsFor } from '../../src/store/rolling-window.js';
import { rateLimitContract } from './rate-limit.contract.js';

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1_000_000;
  return { now: () => time, advance: (ms) => (time += ms) };
}

rateLimitContract('memory', (windowMs, maxLimit) => {
  const clock = fakeClock();
  const store = new MemoryRateLimitStore({ windowMs, maxLimit, now: clock.now, sweep: false });
  return { store, advance: clock.advance, close: () => store.close() };
});

describe('MemoryRateLimitStore bounds', () => {
  it('uses about 1/32 of the window per bucket, at least 50 ms', () => {
    expect(bucketMsFor(60_000)).toBe(1875);
    expect(bucketMsFor(1_000)).toBe(50);
  });

  it('forgets idle clients on sweep', () => {
    const clock = fakeClock();
    const store = new MemoryRateLimitStore({ windowMs: 10_000, maxLimit: 100, now: clock.now, sweep: false });
    for (let index = 0; index < 100; index++) store.consume(`10.0.0.${index}`, 5);
    expect(store.size).toBe(100);
    clock.advance(5_000);
    store.sweep();
    expect(store.size).toBe(100);
    clock.advance(6_000);
    store.sweep();
    expect(store.size).toBe(0);
    store.close();
  });

  it('caps the table: beyond maxClients new clients share one overflow limit', () => {
    const clock = fakeClock();
    const store = new MemoryRateLimitStore({ windowMs: 10_000, maxLimit: 100, maxClients: 100, now: clock.now, sweep: false });
    for (let index = 0; index < 100; index++) expect(store.consume(`a${index}`, 3).allowed).toBe(true);
    expect(store.size).toBe(100);
    const overflow = [0, 1, 2, 3].map((index) => store.consume(`new${index}`, 3).allowed);
    expect(overflow).toEqual([true, true, true, false]);
    expect(store.size).toBe(100);
    expect(store.overflowHits).toBe(4);
    store.close();
  });

  it("overflow 'evict': beyond maxClients the least recently counted client is forgotten, nobody shares a count", () => {
    const clock = fakeClock();
    const store = new MemoryRateLimitStore({ windowMs: 60_000, maxLimit: 10, maxClients: 5, overflow: 'evict', now: clock.now, sweep: false });
    for (let index = 0; index < 5; index++) expect(store.consume(`a${index}`, 2).allowed).toBe(true);
    expect(store.consume('a0', 2).allowed).toBe(true); // a0 is now the most recently counted
    // Newcomers each get their own count: two at the limit, a third is still admitted.
    for (const newcomer of ['n1', 'n2']) {
      expect(store.consume(newcomer, 2).allowed).toBe(true);
      expect(store.consume(newcomer, 2).allowed).toBe(true);
      expect(store.consume(newcomer, 2).allowed).toBe(false);
    }
    expect(store.consume('n3', 2)).toMatchObject({ allowed: true, remaining: 1 });
    expect(store.size).toBe(5);
    expect(store.overflowHits).toBe(3);
    // a1, a2, a3 were evicted (oldest first); a0 was kept and is at its limit.
    expect(store.consume('a0', 2).allowed).toBe(false);
    store.close();
  });

  it('reuses swept slots instead of growing', () => {
    const clock = fakeClock();
    const store = new MemoryRateLimitStore({ windowMs: 1_000, maxLimit: 100, now: clock.now, sweep: false });
    for (let index = 0; index < 2_000; index++) store.consume(`x${index}`, 5);
    const bytes = store.arrayBytes;
    clock.advance(2_000);
    store.sweep();
    for (let index = 0; index < 2_000; index++) store.consume(`y${index}`, 5);
    expect(store.arrayBytes).toBe(bytes);
    store.close();
  });

  it('keeps counter arrays small per client (16-bit counters for limits up to 65535)', () => {
    const clock = fakeClock();
    const store = new MemoryRateLimitStore({ windowMs: 60_000, maxLimit: 100, maxClients: 10_000, now: clock.now, sweep: false });
    for (let index = 0; index < 10_000; index++) store.consume(`c${index}`, 100);
    // 33 buckets × 2 bytes + 4-byte total + 8-byte bucket index = 78 bytes per tracked client.
    expect(store.arrayBytes / 10_001).toBeLessThanOrEqual(80);
    store.close();
  });

  it('handles limits above 65535 with 32-bit counters', () => {
    const clock = fakeClock();
    const store = new MemoryRateLimitStore({ windowMs: 1_000, maxLimit: 100_000, now: clock.now, sweep: false });
    for (let index = 0; index < 70_000; index++) store.consume('bulk', 100_000);
    expect(store.consume('bulk', 100_000).remaining).toBe(29_999);
    store.close();
  });
});
