/**
 * @module security/oauth/signing-keys
 * The ES256 keys mcp-warden signs its own access tokens with (`--oauth-issuer`), and the JWKS
 * it publishes. A key is generated at start when none is stored, persisted through a
 * {@link SigningKeyStore} (a 0600 file by default, `--oauth-key-file`), and rotated: a new key
 * signs from then on while the previous one stays in the JWKS until every token it signed has
 * expired (the overlap). With no store the keys live in memory and tokens end with the process.
 *
 * The store is an interface so that replicas share keys (store/redis/signing-key-store, sealed
 * with the shared secret); everything else here is in-process state rebuilt from what the store
 * returns. Changes go through a compare-and-set on the current key's id, so replicas starting or
 * rotating together agree on one key (the loser adopts the winner's), and a token signed by a key
 * this replica has not seen yet makes it reload the store (at most every 5 s). jose does the
 * cryptography.
 */

import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, type JWTVerifyGetKey, type CryptoKey } from 'jose';
import { readTrustedFile, writeFileAtomic } from '../trusted-file.js';

/** One stored key: its private JWK (a secret) and when it was made. */
export interface StoredSigningKey {
  readonly kid: string;
  readonly createdAt: number;
  readonly privateJwk: JWK;
}

/** Where signing keys persist; newest first. Shared by replicas when backed by Redis. */
export interface SigningKeyStore {
  load(): Promise<readonly StoredSigningKey[]>;
  save(keys: readonly StoredSigningKey[]): Promise<void>;
  /**
   * Stores `keys` only if the stored current key is still `expectedKid` (undefined: none stored),
   * atomically; returns the keys stored afterwards (`keys` when replaced, else the winner's).
   */
  replace(expectedKid: string | undefined, keys: readonly StoredSigningKey[]): Promise<readonly StoredSigningKey[]>;
}

/** Compare-and-set for a store used by one process (load, compare, save). */
async function replaceLocally(store: SigningKeyStore, expectedKid: string | undefined, keys: readonly StoredSigningKey[]): Promise<readonly StoredSigningKey[]> {
  const stored = await store.load();
  if (stored[0]?.kid !== expectedKid) return stored;
  await store.save(keys);
  return keys;
}

/** Keys in memory only: tokens end with the process. */
export class MemorySigningKeyStore implements SigningKeyStore {
  #keys: readonly StoredSigningKey[] = [];
  async load(): Promise<readonly StoredSigningKey[]> {
    return this.#keys;
  }
  async save(keys: readonly StoredSigningKey[]): Promise<void> {
    this.#keys = keys;
  }
  replace(expectedKid: string | undefined, keys: readonly StoredSigningKey[]): Promise<readonly StoredSigningKey[]> {
    return replaceLocally(this, expectedKid, keys);
  }
}

/** Keys in a JSON file written atomically with mode 0600 and read only when nobody else could have written it. */
export class FileSigningKeyStore implements SigningKeyStore {
  readonly #path: string;
  constructor(path: string) {
    this.#path = path;
  }
  async load(): Promise<readonly StoredSigningKey[]> {
    let text: string;
    try {
      text = readTrustedFile(this.#path, { label: 'OAuth key file', uid: process.getuid?.(), fail: (message, cause) => new Error(message, { cause }) });
    } catch (error) {
      if (((error as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return [];
      throw error;
    }
    const parsed = JSON.parse(text) as { keys?: unknown };
    if (!Array.isArray(parsed.keys)) throw new Error(`${this.#path}: not an mcp-warden OAuth key file`);
    return parsed.keys.filter(
      (key): key is StoredSigningKey => typeof key === 'object' && key !== null && typeof key.kid === 'string' && typeof key.createdAt === 'number' && typeof key.privateJwk === 'object',
    );
  }
  async save(keys: readonly StoredSigningKey[]): Promise<void> {
    writeFileAtomic(this.#path, `${JSON.stringify({ keys }, null, 2)}\n`);
  }
  replace(expectedKid: string | undefined, keys: readonly StoredSigningKey[]): Promise<readonly StoredSigningKey[]> {
    return replaceLocally(this, expectedKid, keys);
  }
}

export interface SigningKeysOptions {
  readonly store: SigningKeyStore;
  /** A new key signs after this long, ms (default 30 days). */
  readonly rotateAfterMs?: number;
  /** How long a retired key stays published, ms: at least the access token lifetime. */
  readonly overlapMs: number;
  readonly now?: () => number;
}

interface LiveKey {
  readonly stored: StoredSigningKey;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export const SIGNING_ALGORITHM = 'ES256';
const DAY_MS = 86_400_000;
/** A token naming a key this replica does not know reloads the store at most this often. */
const RELOAD_INTERVAL_MS = 5_000;

async function generate(now: number): Promise<StoredSigningKey> {
  const { privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(privateJwk);
  return { kid, createdAt: now, privateJwk: { ...privateJwk, kid, alg: SIGNING_ALGORITHM, use: 'sig' } };
}

async function live(stored: StoredSigningKey): Promise<LiveKey> {
  const privateKey = (await importJWK(stored.privateJwk, SIGNING_ALGORITHM)) as CryptoKey;
  const { d: _secret, ...publicJwk } = stored.privateJwk;
  return { stored, privateKey, publicJwk: { ...publicJwk, kid: stored.kid, alg: SIGNING_ALGORITHM, use: 'sig' } };
}

/**
 * The signing key ring: the current key, the retired ones still published, the JWKS.
 *
 * @example
 * const keys = await SigningKeys.open({ store: new FileSigningKeyStore('/var/lib/mcp-warden/oauth-keys.json'), overlapMs: 3_600_000 });
 * const { kid, privateKey } = keys.current;
 */
export class SigningKeys {
  readonly #options: SigningKeysOptions;
  readonly #now: () => number;
  #keys: readonly LiveKey[] = [];
  /** When each key stopped signing (this process's rotations; loaded keys: the next key's creation). */
  readonly #retiredAt = new Map<string, number | undefined>();
  #verifySet: JWTVerifyGetKey = createLocalJWKSet({ keys: [] });

  private constructor(options: SigningKeysOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Loads the stored keys, generating (and storing) the first one or rotating when due. */
  static async open(options: SigningKeysOptions): Promise<SigningKeys> {
    const keys = new SigningKeys(options);
    await keys.#adopt(await options.store.load());
    await keys.rotateIfDue();
    // A stored key retired longer than the overlap ago verifies nothing from the start.
    keys.prune();
    return keys;
  }

  /** The key that signs now. */
  get current(): { readonly kid: string; readonly privateKey: CryptoKey } {
    const key = this.#keys[0];
    if (key === undefined) throw new Error('no signing key');
    return { kid: key.stored.kid, privateKey: key.privateKey };
  }

  /** The published JWKS (RFC 7517): public parts only. */
  jwks(): { readonly keys: readonly JWK[] } {
    return { keys: this.#keys.map((key) => key.publicJwk) };
  }

  /**
   * Key lookup for `jwtVerify`: the published keys; an unknown `kid` reloads the store first
   * (another replica rotated). A key whose overlap has passed is dropped here first, not only when
   * someone fetches the JWKS (a check of one number per token until then).
   */
  readonly verifyKey: JWTVerifyGetKey = async (header, token) => {
    this.#pruneIfDue();
    try {
      return await this.#verifySet(header, token);
    } catch (error) {
      if (!(await this.#reloadFor(header.kid))) throw error;
      // The reload may have brought back a key this replica had dropped (the store not yet pruned).
      this.#pruneIfDue();
      return this.#verifySet(header, token);
    }
  };

  /** When the earliest retired key's overlap ends (+Infinity: no retired key). */
  #pruneAt = Number.POSITIVE_INFINITY;

  #pruneIfDue(): void {
    if (this.#now() >= this.#pruneAt) this.prune();
  }

  #lastReload = Number.NEGATIVE_INFINITY;
  #reloading: Promise<void> | undefined;

  /**
   * Reloads the stored keys when `kid` is not ours and the last reload is 5 s old; true when `kid`
   * is known then. Requests arriving together with the new kid share one reload (each would
   * otherwise find the 5 s throttle taken by the first and be refused).
   */
  async #reloadFor(kid: string | undefined): Promise<boolean> {
    if (kid === undefined) return false;
    if (this.#reloading === undefined) {
      // Adopted since this request's lookup failed: the lookup is retried.
      if (this.#knows(kid)) return true;
      const now = this.#now();
      if (now - this.#lastReload < RELOAD_INTERVAL_MS) return false;
      this.#lastReload = now;
      this.#reloading = this.#reload().finally(() => {
        this.#reloading = undefined;
      });
    }
    await this.#reloading;
    return this.#knows(kid);
  }

  #knows(kid: string): boolean {
    return this.#keys.some((key) => key.stored.kid === kid);
  }

  /** Adopts the stored keys when they differ from ours; a store that fails changes nothing. */
  async #reload(): Promise<void> {
    let stored: readonly StoredSigningKey[];
    try {
      stored = await this.#options.store.load();
    } catch {
      return;
    }
    const ids = (keys: readonly { readonly kid: string }[]): string => keys.map((key) => key.kid).join(' ');
    if (ids(stored) !== ids(this.#keys.map((key) => key.stored))) await this.#adopt(stored);
  }

  /** Takes the stored keys as they are (loaded, or another replica's that won a race). */
  async #adopt(stored: readonly StoredSigningKey[]): Promise<void> {
    this.#keys = await Promise.all(stored.map(live));
    this.#retiredAt.clear();
    this.#publish();
  }

  /** Makes a new current key when the current one is older than the rotation period (or absent); drops keys past their overlap. */
  async rotateIfDue(): Promise<boolean> {
    // Token requests arriving together at the rotation instant wait for the one rotation, rather
    // than each rotating (which would push the still-valid previous key out of the JWKS).
    if (this.#rotating !== undefined) {
      await this.#rotating;
      return false;
    }
    const now = this.#now();
    const current = this.#keys[0];
    const rotateAfter = this.#options.rotateAfterMs ?? 30 * DAY_MS;
    if (current !== undefined && now - current.stored.createdAt < rotateAfter) return false;
    try {
      // Another replica (sharing the store) may have rotated already: its key is used, not replaced.
      const stored = await this.#options.store.load();
      const newest = stored[0];
      if (newest !== undefined && newest.kid !== current?.stored.kid && now - newest.createdAt < rotateAfter) {
        await this.#adopt(stored);
        return false;
      }
      if (this.#rotating !== undefined) {
        await this.#rotating;
        return false;
      }
      this.#rotating = this.rotate();
      try {
        await this.#rotating;
      } finally {
        this.#rotating = undefined;
      }
      return true;
    } catch (error) {
      // The store failed (Redis down): a rotation is not urgent, the current key is still valid and
      // published, so it keeps signing and the next token tries again. With no key at all, it fails.
      if (current === undefined) throw error;
      return false;
    }
  }

  #rotating: Promise<void> | undefined;

  /** A new current key now; the previous one stays published for the overlap. */
  async rotate(): Promise<void> {
    const now = this.#now();
    const fresh = await live(await generate(now));
    const previous = this.#keys[0];
    // A retired key is kept while tokens it signed may still be live: until `overlap` after it stopped signing (now).
    const kept = previous === undefined ? [] : [previous];
    const proposed = [fresh, ...kept];
    const stored = await this.#options.store.replace(previous?.stored.kid, proposed.map((key) => key.stored));
    if (stored[0]?.kid !== fresh.stored.kid) {
      // Another replica rotated first (or made the first key): one key for all, theirs.
      await this.#adopt(stored);
      return;
    }
    this.#keys = proposed;
    this.#retiredAt.set(fresh.stored.kid, undefined);
    if (previous !== undefined) this.#retiredAt.set(previous.stored.kid, now);
    this.#publish();
  }

  /** When the key at `index` stopped signing (this process's rotation, else the next key's creation). */
  #retirement(index: number, now: number): number {
    const key = this.#keys[index] as LiveKey;
    return this.#retiredAt.get(key.stored.kid) ?? this.#keys[index - 1]?.stored.createdAt ?? now;
  }

  /** Removes retired keys whose overlap has passed (before publishing the JWKS, and on the verification path). */
  prune(): void {
    const now = this.#now();
    const kept = this.#keys.filter((_key, index) => index === 0 || now - this.#retirement(index, now) < this.#options.overlapMs);
    if (kept.length !== this.#keys.length) {
      this.#keys = kept;
      // Only over the keys this replica saw: a newer rotation by another replica is not undone.
      void this.#options.store.replace(kept[0]?.stored.kid, kept.map((key) => key.stored)).catch(() => undefined);
      this.#publish();
    }
  }

  #publish(): void {
    this.#verifySet = createLocalJWKSet({ keys: this.#keys.map((key) => key.publicJwk) });
    const now = this.#now();
    this.#pruneAt = Math.min(Number.POSITIVE_INFINITY, ...this.#keys.slice(1).map((_key, index) => this.#retirement(index + 1, now) + this.#options.overlapMs));
  }
}
