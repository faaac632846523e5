/** One-time sign-in codes as typed by people: the printed shape, forgiving input, nothing else accepted. */

import { describe, expect, it } from 'vitest';
import { canonicalSignInCode, newSignInCode, signInCodeDigest } from '../../src/security/oauth/sign-in-codes.js';

describe('one-time sign-in codes', () => {
  it('are four groups of five Crockford base32 characters, each new', () => {
    const codes = new Set(Array.from({ length: 200 }, () => newSignInCode()));
    expect(codes.size).toBe(200);
    for (const code of codes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
    // All 32 characters appear (the bits are spread over the whole alphabet).
    expect(new Set([...codes].join('').replace(/-/g, '')).size).toBe(32);
  });

  it('forgive case, spaces and dashes, and read O as 0, I and L as 1; refuse anything else', () => {
    expect(canonicalSignInCode('abcde-fghjk-mnpqr-stvwx')).toBe('ABCDEFGHJKMNPQRSTVWX');
    expect(canonicalSignInCode(' ABCDE FGHJK MNPQR STVWX ')).toBe('ABCDEFGHJKMNPQRSTVWX');
    expect(canonicalSignInCode('O0ILi-11111-00000-22222')).toBe('00111111110000022222');
    expect(signInCodeDigest('o0ili-11111-00000-22222')).toBe(signInCodeDigest('00111-11111-00000-22222'));
    for (const bad of ['', 'ABCDE-FGHJK-MNPQR-STVW', 'ABCDE-FGHJK-MNPQR-STVWXY', 'ABCDE-FGHJK-MNPQR-STVWU', 'ABCDE_FGHJK_MNPQR_STVWX', 'A'.repeat(65)]) {
      expect(canonicalSignInCode(bad), bad).toBeUndefined();
      expect(signInCodeDigest(bad)).toBeUndefined();
    }
  });
});
