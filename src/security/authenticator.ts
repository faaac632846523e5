/**
 * @module security/authenticator
 * Turns an Authorization header into a principal or a refusal: API keys from the current key
 * ring, and (when configured) OAuth bearer JWTs. A token shaped like a JWT goes to the JWT
 * verifier only when JWT mode is on; everything else is looked up as an API key.
 */

import type { KeyRing, Principal } from './api-keys.js';
import { readBearer } from './bearer.js';
import type { JwtVerifier } from './jwt.js';
import { looksLikeJwt } from './jwt-shape.js';

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
}

export class Authenticator {
  readonly #keys: () => KeyRing;
  readonly #jwt: JwtVerifier | undefined;

  constructor(options: AuthenticatorOptions) {
    this.#keys = options.keys;
    this.#jwt = options.jwt;
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
    const verdict = this.#keys().verify(token);
    return verdict.ok ? verdict : { ok: false, missing: false, reason: verdict.reason };
  }
}
