/**
 * The brute-force guard's table with an injected clock and a tiny capacity: overflow forgets
 * the least recently failing client, never pools clients into one count; Retry-After is the
 * ban's real remaining time.
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { BanList, type Ban } from '../../src/security/ban-list.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1_700_000_000_000;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

describe('BanList', () => {
  it('beyond maxClients, a newcomer with one failure is never banned for others\' failures', () => {
    const time = clock();
    const bans = new BanList({ threshold: 2, banMs: 60_000, maxClients: 5, now: time.now });
    try {
      for (let index = 0; index < 5; index++) expect(bans.recordFailure(`10.0.0.${index}`)).toBeUndefined();
      // Past the cap: each of 20 newcomers fails twice (at the threshold, not over it).
      for (let index = 0; index < 20; index++) {
        expect(bans.recordFailure(`10.1.0.${index}`)).toBeUndefined();
        expect(bans.recordFailure(`10.1.0.${index}`)).toBeUndefined();
      }
      expect(bans.recordFailure('10.9.9.9')).toBeUndefined();
      expect(bans.list()).toEqual([]);
      // A newcomer that does cross the threshold is still tracked and banned.
      for (let index = 0; index < 2; index++) expect(bans.recordFailure('10.6.6.6')).toBeUndefined();
      expect(bans.recordFailure('10.6.6.6')).toEqual({ client: '10.6.6.6', until: time.now() + 60_000 });
    } finally {
      bans.close();
    }
  });

  it('failures leave the count one minute after they happened (injected clock)', () => {
    const time = clock();
    const bans = new BanList({ threshold: 2, banMs: 60_000, now: time.now });
    try {
      bans.recordFailure('10.0.0.1');
      bans.recordFailure('10.0.0.1');
      time.advance(60_000);
      expect(bans.recordFailure('10.0.0.1')).toBeUndefined(); // the first two have left the window
      expect(bans.recordFailure('10.0.0.1')).toBeUndefined();
      expect(bans.recordFailure('10.0.0.1')).toEqual({ client: '10.0.0.1', until: time.now() + 60_000 });
    } finally {
      bans.close();
    }
  });

  it('secondsLeft is the remaining ban by the list\'s clock, rounded up', () => {
    const time = clock();
    const bans = new BanList({ threshold: 1, banMs: 60_000, now: time.now });
    try {
      const ban = bans.ban('10.0.0.1') as Ban;
      expect(bans.secondsLeft(ban.until)).toBe(60);
      time.advance(59_001);
      expect(bans.secondsLeft(ban.until)).toBe(1);
      time.advance(998);
      expect(bans.bannedUntil('10.0.0.1')).toBe(ban.until);
      time.advance(1);
      expect(bans.bannedUntil('10.0.0.1')).toBeUndefined();
    } finally {
      bans.close();
    }
  });

  describe('the table of active bans', () => {
    afterEach(() => void vi.useRealTimers());

    it('holds at most maxBans: expired bans make room first, then a new ban is refused (reported), never an active one evicted', () => {
      const time = clock();
      const full: string[] = [];
      const bans = new BanList({ threshold: 1, banMs: 60_000, maxBans: 3, now: time.now, onFull: (client) => full.push(client) });
      try {
        expect(bans.ban('10.0.0.1', time.now() + 10_000)).toEqual({ client: '10.0.0.1', until: time.now() + 10_000 });
        expect(bans.ban('10.0.0.2')).toBeDefined();
        expect(bans.ban('10.0.0.3')).toBeDefined();
        // Full of active bans: the fourth is refused, and nobody is evicted.
        expect(bans.ban('10.0.0.4')).toBeUndefined();
        expect(full).toEqual(['10.0.0.4']);
        expect(bans.list().map((ban) => ban.client)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
        // Through the failure path too: the client is answered (no ban), the table keeps its three.
        expect(bans.recordFailure('10.0.0.5')).toBeUndefined();
        expect(bans.recordFailure('10.0.0.5')).toBeUndefined();
        expect(full).toEqual(['10.0.0.4', '10.0.0.5']);
        // Extending a ban already held needs no room.
        expect(bans.ban('10.0.0.2', time.now() + 120_000)).toEqual({ client: '10.0.0.2', until: time.now() + 120_000 });
        // Once the first has expired, its slot is taken by the next ban.
        time.advance(10_000);
        expect(bans.ban('10.0.0.4')).toEqual({ client: '10.0.0.4', until: time.now() + 60_000 });
        expect(bans.bannedUntil('10.0.0.4')).toBe(time.now() + 60_000);
        expect(bans.size).toBe(3);
      } finally {
        bans.close();
      }
    });

    it('expired bans are pruned on a timer, without any lookup', () => {
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      const time = clock();
      const bans = new BanList({ threshold: 1, banMs: 60_000, pruneIntervalMs: 5_000, now: time.now });
      try {
        for (let index = 0; index < 50; index++) bans.ban(`10.0.1.${index}`);
        bans.ban('10.0.2.1', time.now() + 600_000);
        expect(bans.size).toBe(51);
        time.advance(60_000);
        expect(bans.size).toBe(51); // nothing looked them up
        vi.advanceTimersByTime(5_000);
        expect(bans.size).toBe(1);
        expect(bans.active).toBe(true);
        expect(bans.bannedUntil('10.0.2.1')).toBe(time.now() + 540_000);
      } finally {
        bans.close();
      }
      // close() stops the timer.
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});
