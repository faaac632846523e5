/**
 * The brute-force guard's table with an injected clock and a tiny capacity: overflow forgets
 * the least recently failing client, never pools clients into one count; Retry-After is the
 * ban's real remaining time.
 */

import { describe, expect, it } from 'vitest';
import { BanList } from '../../src/security/ban-list.js';

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
      const ban = bans.ban('10.0.0.1');
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
});
