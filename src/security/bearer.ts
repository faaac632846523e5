/**
 * @module security/bearer
 * Parsing of `Authorization: Bearer <token>` (RFC 6750 §2.1). Only the header is accepted:
 * tokens in the query string (§2.3) are never read, so they cannot leak through logs or referrers.
 */

/** Result of reading the Authorization header. */
export type BearerCredential =
  | { readonly kind: 'missing' }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'token'; readonly token: string };

const MISSING: BearerCredential = Object.freeze({ kind: 'missing' });
const MALFORMED: BearerCredential = Object.freeze({ kind: 'malformed' });
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="  (RFC 6750 §2.1)
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_TOKEN_LENGTH = 8192;

/**
 * Reads a bearer token from an Authorization header value.
 *
 * @example
 * readBearer('Bearer abc'); // { kind: 'token', token: 'abc' }
 * readBearer(undefined);    // { kind: 'missing' }
 */
export function readBearer(header: string | undefined): BearerCredential {
  if (header === undefined || header === '') return MISSING;
  // The scheme is case-insensitive (RFC 9110 §11.1).
  if (header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ') return MALFORMED;
  const token = header.slice(7).trim();
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) return MALFORMED;
  return { kind: 'token', token };
}
