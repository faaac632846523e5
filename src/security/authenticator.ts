/**
 * @module security/authenticator
 * Turns an Authorization header into a principal or a refusal: API keys from the current key
 * ring, and (when configured) OAuth bearer JWTs. A token shaped like a JWT goes to the JWT
 * verifier only when JWT mode is on; everything else is looked up as an API key.
 */

import type { KeyRing } from './api-keys.js';
import type { Principal } from './identity.js';
import { readBearer } from './bearer.js';
import type { JwtVerifier } from './jwt.js';
import { looksLikeJwt } from './jwt-shape.js';
import { isUpstream } from './oauth/grants.js';

/** Outcome of authentication. `reason` is internal (logs, audit); clients see a generic 401. */
export type AuthVerdict =
  | { readonly ok: true; readonly principal: Principal }
  | {
      readonly ok: false;
      readonly missing: boolean;
      readonly reason: string;
      /** The credential could not be checked (the JWKS is unreachable): not the client's fault. */
      readonly unavailable?: boolean;
    };

const MISSING: AuthVerdict = Object.freeze({ ok: false, missing: true, reason: 'no_credentials' });
const MALFORMED: AuthVerdict = Object.freeze({ ok: false, missing: false, reason: 'malformed_header' });

export interface AuthenticatorOptions {
  /** The current key ring (a function: reloads swap it). */
  readonly keys: () => KeyRing;
  readonly jwt?: JwtVerifier | undefined;
  /** Clock for key expiry (default `Date.now`). */
  readonly now?: () => number;
  /**
   * Tokens are mcp-warden's own (`--oauth-issuer`) and name the API key that signed in as their
   * principal id: a session opened with one ends when that key is revoked or expires, too.
   */
  readonly tokensBoundToKeys?: boolean;
}

export class Authenticator {
  readonly #keys: () => KeyRing;
  readonly #jwt: JwtVerifier | undefined;
  readonly #now: () => number;
  readonly #tokensBoundToKeys: boolean;

  constructor(options: AuthenticatorOptions) {
    this.#keys = options.keys;
    this.#jwt = options.jwt;
    this.#now = options.now ?? Date.now;
    this.#tokensBoundToKeys = options.tokensBoundToKeys === true;
  }

  /**
   * True while a credential that opened a session is still accepted at `now`: an API key that
   * is still held, not revoked and not expired (the current ring is asked, so revocation, expiry
   * and rotation past its overlap all count); a token before its `expiresAt`.
   */
  stillValid(principal: { readonly kind: Principal['kind']; readonly id: string }, expiresAt: number | undefined, now = this.#now()): boolean {
    switch (principal.kind) {
      case 'api-key':
        return this.#keys().isActive(principal.id, now);
      case 'jwt':
        // A user signed in at the upstream identity provider has no key to lose; the token's lifetime bounds it.
        if (this.#tokensBoundToKeys && !isUpstream(principal.id) && !this.#keys().isActive(principal.id, now)) return false;
        return expiresAt === undefined || now < expiresAt;
      case 'anonymous':
        return true;
    }
  }

  /** True when OAuth bearer JWTs are accepted. */
  get jwtEnabled(): boolean {
    return this.#jwt !== undefined;
  }

  authenticate(header: string | undefined): AuthVerdict | Promise<AuthVerdict> {
    const credential = readBearer(header);
    if (credential.kind === 'missing') return MISSING;
    if (credential.kind === 'malformed') return MALFORMED;
    const token = credential.token;
    if (this.#jwt !== undefined && looksLikeJwt(token)) {
      return this.#jwt
        .verify(token)
        .then((verdict) => (verdict.ok ? verdict : { ok: false, missing: false, reason: verdict.reason, unavailable: verdict.reason === 'jwks_unavailable' }));
    }
    const verdict = this.#keys().verify(token, this.#now());
    return verdict.ok ? verdict : { ok: false, missing: false, reason: verdict.reason };
  }
}
