/**
 * @module security/oauth/signing-keys
 * The ES256 keys mcp-warden signs its own access tokens with (`--oauth-issuer`), and the JWKS
 * it publishes. A key is generated at start when none is stored, persisted through a
 * {@link SigningKeyStore} (a 0600 file by default, `--oauth-key-file`), and rotated: a new key
 * signs from then on while the previous one stays in the JWKS until every token it signed has
 * expired (the overlap). With no store the keys live in memory and tokens end with the process.
 *
 * The store is an interface so that replicas can share keys later (Redis); everything else here
 * is in-process state rebuilt from what the store returns. jose does the cryptography.
 */

import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, type JWTVerifyGetKey, type CryptoKey } from 'jose';
import { readTrustedFile, writeFileAtomic } from '../trusted-file.js';

/** One stored key: its private JWK (a secret) and when it was made. */
export interface StoredSigningKey {
  readonly kid: string;
  readonly createdAt: number;
  readonly privateJwk: JWK;
}

/** Where signing keys persist; newest first. Shared by replicas when backed by Redis (later). */
export interface SigningKeyStore {
  load(): Promise<readonly StoredSigningKey[]>;
  save(keys: readonly StoredSigningKey[]): Promise<void>;
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
    keys.#keys = await Promise.all((await options.store.load()).map(live));
    keys.#publish();
    await keys.rotateIfDue();
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

  /** Key lookup for `jwtVerify`: the published keys. */
  readonly verifyKey: JWTVerifyGetKey = (header, token) => this.#verifySet(header, token);

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
    this.#rotating = this.rotate();
    try {
      await this.#rotating;
    } finally {
      this.#rotating = undefined;
    }
    return true;
  }

  #rotating: Promise<void> | undefined;

  /** A new current key now; the previous one stays published for the overlap. */
  async rotate(): Promise<void> {
    const now = this.#now();
    const fresh = await live(await generate(now));
    const previous = this.#keys[0];
    // A retired key is kept while tokens it signed may still be live: until `overlap` after it stopped signing (now).
    const kept = previous === undefined ? [] : [previous];
    this.#keys = [fresh, ...kept];
    this.#retiredAt.set(fresh.stored.kid, undefined);
    if (previous !== undefined) this.#retiredAt.set(previous.stored.kid, now);
    await this.#options.store.save(this.#keys.map((key) => key.stored));
    this.#publish();
  }

  /** Removes retired keys whose overlap has passed (called before publishing the JWKS). */
  prune(): void {
    const now = this.#now();
    const kept = this.#keys.filter((key, index) => {
      if (index === 0) return true;
      const retired = this.#retiredAt.get(key.stored.kid) ?? this.#keys[index - 1]?.stored.createdAt ?? now;
      return now - retired < this.#options.overlapMs;
    });
    if (kept.length !== this.#keys.length) {
      this.#keys = kept;
      void this.#options.store.save(this.#keys.map((key) => key.stored));
      this.#publish();
    }
  }

  #publish(): void {
    this.#verifySet = createLocalJWKSet({ keys: this.#keys.map((key) => key.publicJwk) });
  }
}
