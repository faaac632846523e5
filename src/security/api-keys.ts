/**
 * @module security/api-keys
 * The set of accepted API keys, held as SHA-256 digests only, with each key's lifecycle
 * (expiry, revocation), limits (tools, rate limit, source addresses) and role (operator or not).
 *
 * Verification hashes the presented token, finds the candidate record by digest and confirms
 * it in constant time over the fixed-length digests (`security/constant-time`). Looking a digest up in a map
 * can only reveal bits of SHA-256 outputs, which by preimage resistance do not help anyone
 * forge a key; the comparison that accepts a key is constant-time.
 */

import { sameBytes, secretDigest } from './constant-time.js';
import { ipMatcher } from './ip-rules.js';
import type { Principal } from './identity.js';

/** One accepted key, without the key itself. */
export interface KeyRecord {
  readonly id: string;
  readonly name: string | undefined;
  /** SHA-256 of the key (32 bytes). */
  readonly hash: Buffer;
  /** Epoch ms after which the key is refused. */
  readonly expiresAt?: number | undefined;
  /** Revoked keys stay listed but are refused. */
  readonly disabled?: boolean | undefined;
  readonly tools?: readonly string[] | undefined;
  readonly rateLimit?: number | undefined;
  readonly allowIps?: readonly string[] | undefined;
  /** Grants the operator role (see {@link Principal.operator}). */
  readonly operator?: boolean | undefined;
}

/** Why a presented key was refused (for logs and the audit trail, never for the client). */
export type KeyRefusal = 'unknown_key' | 'expired' | 'revoked';

export type KeyVerdict = { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly reason: KeyRefusal };

/** SHA-256 of a key. */
export function hashKey(key: string): Buffer {
  return secretDigest(key);
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
const UNKNOWN: KeyVerdict = Object.freeze({ ok: false, reason: 'unknown_key' });
const EXPIRED: KeyVerdict = Object.freeze({ ok: false, reason: 'expired' });
const REVOKED: KeyVerdict = Object.freeze({ ok: false, reason: 'revoked' });

interface Entry {
  readonly record: KeyRecord;
  readonly verdict: KeyVerdict;
}

function principalOf(record: KeyRecord): Principal {
  return Object.freeze({
    kind: 'api-key',
    id: record.id,
    name: record.name,
    tools: record.tools === undefined ? undefined : new Set(record.tools),
    rateLimit: record.rateLimit,
    allowIps: record.allowIps === undefined || record.allowIps.length === 0 ? undefined : ipMatcher(record.allowIps),
    operator: record.operator === true,
  });
}

/** An immutable set of accepted keys. A reload builds a new ring. */
export class KeyRing {
  readonly #byDigest: Map<string, Entry>;
  readonly #byId: Map<string, Entry>;

  constructor(records: readonly KeyRecord[]) {
    const entries = records.map((record): Entry => ({ record, verdict: Object.freeze({ ok: true, principal: principalOf(record) }) }));
    this.#byDigest = new Map(entries.map((entry) => [entry.record.hash.toString('base64'), entry]));
    this.#byId = new Map(entries.map((entry) => [entry.record.id, entry]));
  }

  /**
   * Builds a ring from raw keys (flags, env, config file): ids are fingerprints, no limits,
   * operator role (the one key a single-key deployment has is its operator's).
   *
   * @example
   * const ring = KeyRing.fromKeys([process.env.MY_KEY!]);
   */
  static fromKeys(keys: readonly string[]): KeyRing {
    return new KeyRing(KeyRing.recordsOf(keys));
  }

  /** Unrestricted operator records for raw keys. */
  static recordsOf(keys: readonly string[]): KeyRecord[] {
    return keys.map((key) => {
      const hash = hashKey(key);
      return { id: fingerprintOfHash(hash), name: undefined, hash, operator: true };
    });
  }

  /** Number of keys held (including expired and revoked ones). */
  get size(): number {
    return this.#byDigest.size;
  }

  /** Number of keys that would be accepted now. */
  activeCount(now = Date.now()): number {
    let count = 0;
    for (const { record } of this.#byDigest.values()) if (record.disabled !== true && (record.expiresAt === undefined || now < record.expiresAt)) count++;
    return count;
  }

  /** True when the key with this id is held, not revoked and not expired at `now` (its sessions may go on). */
  isActive(id: string, now = Date.now()): boolean {
    const record = this.#byId.get(id)?.record;
    return record !== undefined && record.disabled !== true && (record.expiresAt === undefined || now < record.expiresAt);
  }

  /** The principal of the key with this id while it is active (tokens issued at key sign-in take its limits from here). */
  activePrincipal(id: string, now = Date.now()): Principal | undefined {
    const entry = this.#byId.get(id);
    return entry !== undefined && this.isActive(id, now) && entry.verdict.ok ? entry.verdict.principal : undefined;
  }

  /** The principal for a presented token, or why it is refused. */
  verify(token: string, now = Date.now()): KeyVerdict {
    const digest = hashKey(token);
    const entry = this.#byDigest.get(digest.toString('base64'));
    // Compare on both paths so a miss costs the same as a hit.
    const equal = sameBytes(digest, entry === undefined ? DUMMY_HASH : entry.record.hash);
    if (!equal || entry === undefined) return UNKNOWN;
    if (entry.record.disabled === true) return REVOKED;
    // `!(now < x)` rather than `now >= x`: an expiry that is not a number (NaN) means expired.
    if (entry.record.expiresAt !== undefined && !(now < entry.record.expiresAt)) return EXPIRED;
    return entry.verdict;
  }
}
