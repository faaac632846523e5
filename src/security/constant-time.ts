/**
 * @module security/constant-time
 * The one constant-time secret comparison: secrets are hashed to fixed-length SHA-256 digests
 * and compared with `crypto.timingSafeEqual`, so neither the time taken nor an early exit tells
 * a caller how much of a guess was right. Used by the API keys, the metrics token and the
 * shared-secret tags on Redis records and bus messages.
 */

import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * SHA-256 of a secret (32 bytes, UTF-8): what is stored and compared, never the secret itself.
 *
 * @example
 * const expected = secretDigest(token);
 */
export function secretDigest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/**
 * True when two byte strings are equal, compared in constant time. Lengths are not secret
 * (digests and MACs have a fixed length): a length mismatch answers false at once.
 *
 * @example
 * sameBytes(secretDigest(presented), expected);
 */
export function sameBytes(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}
