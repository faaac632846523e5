/**
 * Restrictions shared between replicas only tighten, even when they arrive validly signed: an
 * expiry that is not a finite number means expired, a `disabled` that is not `false` revokes,
 * and nothing applied later un-revokes a key or extends its expiry. (`Math.min(past, "x")` is
 * NaN, and `now >= NaN` is false: that once revived an expired key.)
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyRing } from '../../src/security/api-keys.js';
import { createKeyRecord, updateKeysFile } from '../../src/security/keys-file.js';
import { KeySource } from '../../src/security/key-source.js';
import type { KeyRestriction } from '../../src/store/types.js';

const sources: KeySource[] = [];
afterEach(() => {
  for (const source of sources.splice(0)) source.close();
});

function setup(): { source: KeySource; live: { key: string; id: string }; expired: { key: string; id: string } } {
  const file = join(mkdtempSync(join(tmpdir(), 'warden-restrict-')), 'keys.json');
  const live = createKeyRecord({ name: 'live' });
  const expired = createKeyRecord({ name: 'expired', expiresAt: Date.now() - 60_000 });
  updateKeysFile(file, (keys) => {
    keys.keys.push(live.record, expired.record);
  });
  const source = new KeySource({ configKeys: [], keysFile: file });
  sources.push(source);
  return { source, live: { key: live.key, id: live.record.id }, expired: { key: expired.key, id: expired.record.id } };
}

/** What a parsed-but-unchecked message could carry (the types say number/boolean; JSON does not). */
const malformed = (restriction: Record<string, unknown>): KeyRestriction => restriction as unknown as KeyRestriction;

describe('KeySource.applyRestrictions only tightens', () => {
  it('a malformed expiry does not revive an expired key', () => {
    const { source, expired } = setup();
    expect(source.ring.verify(expired.key)).toMatchObject({ ok: false, reason: 'expired' });
    source.applyRestrictions([malformed({ id: expired.id, disabled: false, expiresAt: 'x' })]);
    expect(source.ring.verify(expired.key)).toMatchObject({ ok: false, reason: 'expired' });
    source.applyRestrictions([malformed({ id: expired.id, disabled: false, expiresAt: Number.NaN })]);
    expect(source.ring.verify(expired.key)).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('a malformed expiry on a live key means expired', () => {
    const { source, live } = setup();
    expect(source.ring.verify(live.key).ok).toBe(true);
    source.applyRestrictions([malformed({ id: live.id, disabled: false, expiresAt: Number.NaN })]);
    expect(source.ring.verify(live.key)).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('a disabled flag that is not a boolean revokes', () => {
    const { source, live } = setup();
    source.applyRestrictions([malformed({ id: live.id, disabled: 'no' })]);
    expect(source.ring.verify(live.key)).toMatchObject({ ok: false, reason: 'revoked' });
  });

  it('nothing applied later un-revokes a key or extends an expiry', () => {
    const { source, live, expired } = setup();
    source.applyRestrictions([{ id: live.id, disabled: true }]);
    source.applyRestrictions([{ id: live.id, disabled: false }, { id: expired.id, disabled: false, expiresAt: Date.now() + 3_600_000 }]);
    expect(source.ring.verify(live.key)).toMatchObject({ ok: false, reason: 'revoked' });
    expect(source.ring.verify(expired.key)).toMatchObject({ ok: false, reason: 'expired' });
  });
});

describe('KeyRing', () => {
  it('treats an expiry that is not a number as expired (the last line of defence)', () => {
    const key = 'ring-key-0123456789abcdefghijklmnop';
    const [record] = KeyRing.recordsOf([key]);
    const ring = new KeyRing([{ ...(record as NonNullable<typeof record>), expiresAt: Number.NaN }]);
    expect(ring.verify(key)).toMatchObject({ ok: false, reason: 'expired' });
    expect(ring.activeCount()).toBe(0);
  });
});
