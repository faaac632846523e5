/**
 * @module security/oauth/consent
 * The state of a sign-in between the consent page and its form post: pending authorization
 * requests (single use, bounded, expiring) and the CSRF check of the post. Two pages use it: the
 * key sign-in page, and the approval page after an upstream OpenID Connect sign-in, whose
 * pending consent also holds the identity the provider vouched for and the scopes to grant. The check is a
 * signed double submit: the browser holds a random nonce in a SameSite=Strict cookie, the form
 * holds HMAC(secret, transaction id, nonce); a post is accepted only with both, matching, so a
 * page on another site can neither read the form nor make the browser send the cookie.
 *
 * The pending consents live in a {@link ConsentStore} and the CSRF tag is made by a
 * {@link CsrfSigner}: with Redis both are shared (store/redis/consents, and a tag from the shared
 * secret), so the form post may land on another replica than the page (issue 14, Must 6).
 */

import { createHmac, randomBytes } from 'node:crypto';
import { sameBytes } from '../constant-time.js';
import type { AuthorizationRequest } from './authorization-server.js';

/**
 * Who the upstream identity provider signed in (upstream OpenID Connect sign-in), held while our
 * consent page asks that user to approve the client; absent for key sign-in.
 */
export interface ConsentIdentity {
  readonly subject: string;
  readonly email: string | undefined;
  /** The scopes the grant will carry (the rules' scopes narrowed to those requested). */
  readonly scopes: readonly string[];
}

export interface PendingConsent {
  readonly id: string;
  readonly request: AuthorizationRequest;
  /** Upstream sign-in: the identity already vouched for; the page only asks for approval. */
  readonly identity?: ConsentIdentity | undefined;
  readonly expiresAt: number;
}

/** Where pending consents wait for the form post (shared by the replicas with Redis). */
export interface ConsentStore {
  put(pending: PendingConsent, now: number): Promise<void>;
  /** The pending consent, still open; undefined when unknown or expired. */
  get(id: string, now: number): Promise<PendingConsent | undefined>;
  delete(id: string): Promise<void>;
}

/** Makes and checks the form's CSRF tag over `data`; the same on every replica that shares a store. */
export interface CsrfSigner {
  sign(data: string): string;
  verify(data: string, tag: string): boolean;
}

/** A CSRF signer with a random key of this process (one replica). */
export function localCsrfSigner(): CsrfSigner {
  const secret = randomBytes(32);
  const sign = (data: string): string => createHmac('sha256', secret).update(data).digest('base64url');
  return { sign, verify: (data, tag) => sameBytes(Buffer.from(tag), Buffer.from(sign(data))) };
}

/** Pending consents in process memory, bounded: past `max` (default 10,000) the oldest goes. */
export class MemoryConsentStore implements ConsentStore {
  readonly #pending = new Map<string, PendingConsent>();
  readonly #max: number;

  constructor(options: { readonly max?: number } = {}) {
    this.#max = options.max ?? 10_000;
  }

  async put(pending: PendingConsent, now: number): Promise<void> {
    for (const [id, held] of this.#pending) if (!(now < held.expiresAt)) this.#pending.delete(id);
    while (this.#pending.size >= this.#max) this.#pending.delete(this.#pending.keys().next().value as string);
    this.#pending.set(pending.id, pending);
  }

  async get(id: string, now: number): Promise<PendingConsent | undefined> {
    const pending = this.#pending.get(id);
    return pending !== undefined && now < pending.expiresAt ? pending : undefined;
  }

  async delete(id: string): Promise<void> {
    this.#pending.delete(id);
  }
}

export interface ConsentOptions {
  /** How long the page may stay open, ms (default 10 minutes). */
  readonly ttlMs?: number;
  /** Where consents wait (default: this process's memory). */
  readonly store?: ConsentStore;
  /** Who makes the CSRF tags (default: a key of this process). */
  readonly csrf?: CsrfSigner;
  /** Called when closing a consent failed in the store (it then expires by itself). */
  readonly onError?: (error: unknown) => void;
  readonly now?: () => number;
}

/** Pending consents and their CSRF tokens. */
export class ConsentTransactions {
  readonly #store: ConsentStore;
  readonly #csrf: CsrfSigner;
  readonly #ttlMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #now: () => number;

  constructor(options: ConsentOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 600_000;
    this.#store = options.store ?? new MemoryConsentStore();
    this.#csrf = options.csrf ?? localCsrfSigner();
    this.#onError = options.onError ?? (() => undefined);
    this.#now = options.now ?? Date.now;
  }

  /** Holds a checked request for the page; returns its id, the cookie nonce and the form's CSRF token. */
  async open(request: AuthorizationRequest, identity?: ConsentIdentity): Promise<{ readonly id: string; readonly nonce: string; readonly csrf: string }> {
    const now = this.#now();
    const id = randomBytes(24).toString('base64url');
    const nonce = randomBytes(24).toString('base64url');
    await this.#store.put({ id, request, identity, expiresAt: now + this.#ttlMs }, now);
    return { id, nonce, csrf: this.#sign(id, nonce) };
  }

  /** A new CSRF token for the same transaction and nonce (the page shown again after a wrong key). */
  csrfFor(id: string, nonce: string): string {
    return this.#sign(id, nonce);
  }

  /** True when the post's token was made for this transaction and the cookie's nonce. */
  csrfValid(id: string, nonce: string | undefined, csrf: string | undefined): boolean {
    if (nonce === undefined || csrf === undefined || nonce.length > 100 || csrf.length > 200) return false;
    return this.#csrf.verify(`${id}.${nonce}`, csrf);
  }

  /** The pending consent, still open; undefined when unknown or expired. */
  get(id: string): Promise<PendingConsent | undefined> {
    return this.#store.get(id, this.#now());
  }

  /** Ends a consent and waits for the store (before a code is issued for it: a replayed post finds nothing). */
  async end(id: string): Promise<void> {
    await this.#store.delete(id);
  }

  /** Ends a consent (approved or denied): its id cannot be posted again. A store failure leaves it to expire. */
  close(id: string): void {
    this.#store.delete(id).catch(this.#onError);
  }

  #sign(id: string, nonce: string): string {
    return this.#csrf.sign(`${id}.${nonce}`);
  }
}
