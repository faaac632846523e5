/**
 * Signing keys of mcp-warden's own authorization server: generated once and persisted 0600,
 * reloaded at the next start (tokens survive a restart), refused from a file others can write,
 * rotated after the period with the previous key published for the overlap only (manual clock).
 */

import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileSigningKeyStore, MemorySigningKeyStore, SigningKeys } from '../../src/security/oauth/signing-keys.js';
import { manualClock } from '../helpers/clock.js';
import { signWithCurrentKey, verifiesWith } from '../helpers/oauth.js';

function keyFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'warden-signing-')), 'oauth-keys.json');
}

describe('OAuth signing keys', () => {
  it('token requests arriving together when rotation is due rotate once: the previous key stays published', async () => {
    const clock = manualClock();
    const keys = await SigningKeys.open({ store: new MemorySigningKeyStore(), overlapMs: 660_000, rotateAfterMs: 1000, now: clock.now });
    const old = await signWithCurrentKey(keys);
    clock.advance(1000);
    const rotated = await Promise.all([keys.rotateIfDue(), keys.rotateIfDue(), keys.rotateIfDue()]);
    expect(rotated.filter(Boolean)).toHaveLength(1);
    expect(keys.jwks().keys).toHaveLength(2);
    expect(await verifiesWith(keys, old)).toBe(true);
  });

  it('a store that fails when rotation is due (Redis down) leaves the current key signing; the rotation happens once the store answers', async () => {
    const clock = manualClock();
    const store = new MemorySigningKeyStore();
    const keys = await SigningKeys.open({ store, overlapMs: 660_000, rotateAfterMs: 1000, now: clock.now });
    const before = keys.current.kid;
    const load = store.load.bind(store);
    store.load = () => Promise.reject(new Error('Connection is closed.'));
    clock.advance(1000);
    expect(await keys.rotateIfDue()).toBe(false);
    expect(keys.current.kid).toBe(before);
    store.load = load;
    expect(await keys.rotateIfDue()).toBe(true);
    expect(keys.current.kid).not.toBe(before);
  });

  it('persist to a 0600 file and are the same after a restart; the JWKS holds no private part', async () => {
    const path = keyFile();
    const first = await SigningKeys.open({ store: new FileSigningKeyStore(path), overlapMs: 60_000 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const token = await signWithCurrentKey(first);
    const again = await SigningKeys.open({ store: new FileSigningKeyStore(path), overlapMs: 60_000 });
    expect(again.current.kid).toBe(first.current.kid);
    expect(await verifiesWith(again, token)).toBe(true);
    expect(JSON.stringify(again.jwks())).not.toContain('"d"');
    expect(readFileSync(path, 'utf8')).toContain('"d"');
  });

  it('refuses a key file that group or others can write', async () => {
    const path = keyFile();
    await SigningKeys.open({ store: new FileSigningKeyStore(path), overlapMs: 60_000 });
    chmodSync(path, 0o666);
    await expect(SigningKeys.open({ store: new FileSigningKeyStore(path), overlapMs: 60_000 })).rejects.toThrow(/writable by group or others/);
  });

  it('rotate after the period; the previous key verifies during the overlap and is dropped after it', async () => {
    const clock = manualClock();
    const keys = await SigningKeys.open({ store: new MemorySigningKeyStore(), overlapMs: 660_000, rotateAfterMs: 86_400_000, now: clock.now });
    const old = await signWithCurrentKey(keys);
    const oldKid = keys.current.kid;
    clock.advance(86_399_999);
    expect(await keys.rotateIfDue()).toBe(false);
    clock.advance(1);
    expect(await keys.rotateIfDue()).toBe(true);
    expect(keys.current.kid).not.toBe(oldKid);
    expect(keys.jwks().keys.map((key) => key.kid)).toEqual([keys.current.kid, oldKid]);
    expect(await verifiesWith(keys, old)).toBe(true);
    expect(await verifiesWith(keys, await signWithCurrentKey(keys))).toBe(true);
    clock.advance(659_999);
    keys.prune();
    expect(keys.jwks().keys).toHaveLength(2);
    clock.advance(1);
    keys.prune();
    expect(keys.jwks().keys.map((key) => key.kid)).toEqual([keys.current.kid]);
    expect(await verifiesWith(keys, old)).toBe(false);
  });

  it('a retired key stops verifying at the end of its overlap with no prune or JWKS call; a stored key retired long ago is dropped at open', async () => {
    const clock = manualClock();
    const store = new MemorySigningKeyStore();
    const keys = await SigningKeys.open({ store, overlapMs: 660_000, rotateAfterMs: 86_400_000, now: clock.now });
    const old = await signWithCurrentKey(keys);
    clock.advance(86_400_000);
    expect(await keys.rotateIfDue()).toBe(true);
    clock.advance(659_999);
    expect(await verifiesWith(keys, old)).toBe(true);
    clock.advance(1);
    // Verification alone: nobody asked for the JWKS or called prune().
    expect(await verifiesWith(keys, old)).toBe(false);
    expect(keys.jwks().keys).toHaveLength(1);

    // A store still holding a key retired beyond its overlap (written before, or by a replica that never pruned).
    const stale = new MemorySigningKeyStore();
    const first = await SigningKeys.open({ store: stale, overlapMs: 660_000, rotateAfterMs: 86_400_000, now: clock.now });
    const staleToken = await signWithCurrentKey(first);
    clock.advance(86_400_000);
    await first.rotate();
    clock.advance(660_000);
    const reopened = await SigningKeys.open({ store: stale, overlapMs: 660_000, rotateAfterMs: 86_400_000, now: clock.now });
    expect(reopened.jwks().keys).toHaveLength(1);
    expect((await stale.load()).map((key) => key.kid)).toEqual([reopened.current.kid]);
    expect(await verifiesWith(reopened, staleToken)).toBe(false);
  });
});
