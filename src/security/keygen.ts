/**
 * @module security/keygen
 * API key generation: 32 bytes from the OS CSPRNG, base64url (43 characters, 256 bits).
 */

import { randomBytes } from 'node:crypto';

/**
 * Returns a new API key.
 *
 * @example
 * const key = generateApiKey(); // e.g. "q3Yk...": 43 base64url characters
 */
export function generateApiKey(): string {
  return randomBytes(32).toString('base64url');
}
