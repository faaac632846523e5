/**
 * @module security/oauth/sign-in-codes
 * One-time sign-in codes: what an operator hands a user (`mcp-warden oauth code`) so that the
 * user can sign an OAuth client in as an API key without ever holding the key. A code is 20
 * characters of Crockford base32 (100 random bits) printed in four groups of five
 * (`7K3QX-M2P9D-...`): easy to read aloud and type, and far beyond guessing (each guess is a
 * failed sign-in for the brute-force guard). Typing is forgiving as Crockford intended: case,
 * spaces and dashes do not matter, and `O`, `I`, `L` are read as `0`, `1`, `1`. Only the
 * SHA-256 digest of the canonical form is stored. Hand-written: a few lines of base32 over
 * `crypto.randomBytes`, no library needed.
 */

import { randomBytes } from 'node:crypto';
import { digestOf } from './grants.js';

/** Crockford's base32 alphabet: no I, L, O, U. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const LENGTH = 20;
const GROUP = 5;

/** Bounds of a code's lifetime, seconds (default 15 minutes, at most one day). */
export const SIGN_IN_CODE_TTL = { min: 60, max: 86_400, default: 900 } as const;

/** A fresh code in its printed form (`XXXXX-XXXXX-XXXXX-XXXXX`). */
export function newSignInCode(): string {
  // 5 bits per character: 100 bits from 13 bytes (4 bits unused).
  const bytes = randomBytes(13);
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  let code = '';
  for (let index = 0; index < LENGTH; index++) code += ALPHABET[Number((bits >> BigInt(index * 5)) & 31n)];
  return code.match(new RegExp(`.{${GROUP}}`, 'g'))?.join('-') ?? code;
}

/**
 * The canonical form of what a user typed, or undefined when it cannot be a code (wrong
 * length or characters): uppercase, separators (space, dash) dropped, O→0, I and L→1.
 */
export function canonicalSignInCode(typed: string): string | undefined {
  if (typed.length > 64) return undefined;
  const canonical = typed
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  return canonical.length === LENGTH && [...canonical].every((character) => ALPHABET.includes(character)) ? canonical : undefined;
}

/** The digest a code is stored under (of its canonical form); undefined when it cannot be a code. */
export function signInCodeDigest(typed: string): string | undefined {
  const canonical = canonicalSignInCode(typed);
  return canonical === undefined ? undefined : digestOf(`otc:${canonical}`);
}
