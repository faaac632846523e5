/**
 * @module security/api-keys
 * The set of accepted API keys, held as SHA-256 digests only.
 *
 * Verification hashes the presented token, finds the candidate record by digest and confirms
 * it with `crypto.timingSafeEqual` over the fixed-length digests. Looking a digest up in a map
 * can only reveal bits of SHA-256 outputs, which by preimage resistance do not help anyone
 * forge a key; the comparison that accepts a key is constant-time.
 */

import { createHash, timingSafeEqual } from 'node:crypto';

/** Who made a request, as far as the server knows. Never carries the secret. */
export interface Principal {
  readonly kind: 'api-key' | 'anonymous';
  /** Stable identifier: the key's fingerprint (or its id from a keys file). */
  readonly id: string;
  /** Human label, when one was configured. */
  readonly name: string | undefined;
}

/** One accepted key, without the key itself. */
export interface KeyRecord {
  readonly id: string;
  readonly name: string | undefined;
  /** SHA-256 of the key (32 bytes). */
  readonly hash: Buffer;
}

/** SHA-256 of a key. */
export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/**
 * A short, non-reversible label for a key, safe for logs: `key_` + 12 hex digits of its SHA-256.
 *
 * @example
 * keyFingerprint('my-secret-key-0123456789'); // 'key_5a1b...'
 */
export function keyFingerprint(key: string): string {
  return fingerprintOfHash(hashKey(key));
}

/** Fingerprint from an already computed digest. */
export function fingerprintOfHash(hash: Buffer): string {
  return `key_${hash.subarray(0, 6).toString('hex')}`;
}

const DUMMY_HASH = Buffer.alloc(32);

/** An immutable set of accepted keys. */
export class KeyRing {
  readonly #byDigest: Map<string, { record: KeyRecord; principal: Principal }>;

  constructor(records: readonly KeyRecord[]) {
    this.#byDigest = new Map(
      records.map((record) => [
        record.hash.toString('base64'),
        { record, principal: Object.freeze({ kind: 'api-key', id: record.id, name: record.name }) },
      ]),
    );
  }

  /**
   * Builds a ring from raw keys (flags, env, config file): ids are fingerprints.
   *
   * @example
   * const ring = KeyRing.fromKeys([process.env.MY_KEY!]);
   */
  static fromKeys(keys: readonly string[]): KeyRing {
    return new KeyRing(
      keys.map((key) => {
        const hash = hashKey(key);
        return { id: fingerprintOfHash(hash), name: undefined, hash };
      }),
    );
  }

  /** Number of accepted keys. */
  get size(): number {
    return this.#byDigest.size;
  }

  /** The principal for a presented token, or undefined when no key matches. */
  verify(token: string): Principal | undefined {
    const digest = hashKey(token);
    const entry = this.#byDigest.get(digest.toString('base64'));
    // Compare on both paths so a miss costs the same as a hit.
    const equal = timingSafeEqual(digest, entry === undefined ? DUMMY_HASH : entry.record.hash);
    return equal && entry !== undefined ? entry.principal : undefined;
  }
}
