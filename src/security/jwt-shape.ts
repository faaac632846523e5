/**
 * @module security/jwt-shape
 * Whether a bearer token looks like a JWT, without loading a JOSE library.
 */

const JWT_SHAPE = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*$/;

/** True when a bearer token has the compact JWS shape (three base64url segments). */
export function looksLikeJwt(token: string): boolean {
  return JWT_SHAPE.test(token);
}
