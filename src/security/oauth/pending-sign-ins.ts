/**
 * @module security/oauth/pending-sign-ins
 * Where upstream OpenID Connect sign-ins wait between the redirect to the identity provider and
 * its callback (security/oauth/upstream-oidc): the MCP authorization request, the `nonce` and
 * PKCE verifier sent to the provider, the digest of the browser binding cookie, the expiry.
 * Behind a narrow interface so that with Redis the callback may land on any replica (issue 14,
 * Must 6): store/memory/pending-sign-ins for one process, store/redis/pending-sign-ins (the
 * record encrypted, since the verifier and nonce are secrets) for several.
 *
 * A pending sign-in is looked up by the digest of its `state` and taken once, atomically, and only
 * by the browser that started it: a callback from another browser (login CSRF, a leaked URL)
 * neither completes nor spends it.
 */

import type { AuthorizationRequest } from './authorization-server.js';

/** One sign-in waiting for the provider's callback. */
export interface PendingSignIn {
  readonly request: AuthorizationRequest;
  readonly nonce: string;
  /** The PKCE code verifier for the provider's token endpoint (a secret until redeemed). */
  readonly verifier: string;
  /** Digest of the browser binding held in the cookie. */
  readonly browser: string;
  readonly expiresAt: number;
}

export interface PendingSignInStore {
  /** Keeps `pending` under `key` (the digest of its state) until its expiry. */
  put(key: string, pending: PendingSignIn, now: number): Promise<void>;
  /**
   * Takes the pending sign-in under `key` (single use, atomic across replicas) when `browser`
   * (a cookie's digest) is the one it was started by; undefined when unknown, expired or another
   * browser's (which leaves it in place).
   */
  take(key: string, browser: string, now: number): Promise<PendingSignIn | undefined>;
}
