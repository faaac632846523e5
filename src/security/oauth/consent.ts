/**
 * @module security/oauth/consent
 * The state of a sign-in between the consent page and its form post: pending authorization
 * requests (single use, bounded, expiring) and the CSRF check of the post. The check is a
 * signed double submit: the browser holds a random nonce in a SameSite=Strict cookie, the form
 * holds HMAC(secret, transaction id, nonce); a post is accepted only with both, matching, so a
 * page on another site can neither read the form nor make the browser send the cookie.
 */

import { createHmac, randomBytes } from 'node:crypto';
import { sameBytes } from '../constant-time.js';
import type { AuthorizationRequest } from './authorization-server.js';

export interface PendingConsent {
  readonly id: string;
  readonly request: AuthorizationRequest;
  readonly expiresAt: number;
}

export interface ConsentOptions {
  /** How long the page may stay open, ms (default 10 minutes). */
  readonly ttlMs?: number;
  /** Pending sign-ins held at most (default 10,000; past it the oldest goes). */
  readonly max?: number;
  readonly now?: () => number;
}

/** Pending consents and their CSRF tokens. */
export class ConsentTransactions {
  readonly #pending = new Map<string, PendingConsent>();
  readonly #secret = randomBytes(32);
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: ConsentOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 600_000;
    this.#max = options.max ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Holds a checked request for the page; returns its id, the cookie nonce and the form's CSRF token. */
  open(request: AuthorizationRequest): { readonly id: string; readonly nonce: string; readonly csrf: string } {
    const now = this.#now();
    for (const [id, pending] of this.#pending) if (!(now < pending.expiresAt)) this.#pending.delete(id);
    while (this.#pending.size >= this.#max) this.#pending.delete(this.#pending.keys().next().value as string);
    const id = randomBytes(24).toString('base64url');
    const nonce = randomBytes(24).toString('base64url');
    this.#pending.set(id, { id, request, expiresAt: now + this.#ttlMs });
    return { id, nonce, csrf: this.#sign(id, nonce) };
  }

  /** A new CSRF token for the same transaction and nonce (the page shown again after a wrong key). */
  csrfFor(id: string, nonce: string): string {
    return this.#sign(id, nonce);
  }

  /** True when the post's token was made for this transaction and the cookie's nonce. */
  csrfValid(id: string, nonce: string | undefined, csrf: string | undefined): boolean {
    if (nonce === undefined || csrf === undefined || nonce.length > 100 || csrf.length > 100) return false;
    return sameBytes(Buffer.from(csrf), Buffer.from(this.#sign(id, nonce)));
  }

  /** The pending consent, still open; undefined when unknown or expired. */
  get(id: string): PendingConsent | undefined {
    const pending = this.#pending.get(id);
    return pending !== undefined && this.#now() < pending.expiresAt ? pending : undefined;
  }

  /** Ends a consent (approved or denied): its id cannot be posted again. */
  close(id: string): void {
    this.#pending.delete(id);
  }

  #sign(id: string, nonce: string): string {
    return createHmac('sha256', this.#secret).update(`${id}.${nonce}`).digest('base64url');
  }
}
