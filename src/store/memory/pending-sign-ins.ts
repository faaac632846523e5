/**
 * @module store/memory/pending-sign-ins
 * Pending upstream sign-ins in process memory ({@link PendingSignInStore}): one replica, or no
 * Redis. Bounded: expired entries are swept on every start and, at the cap, the oldest goes (a
 * flood of abandoned sign-ins cannot grow memory).
 */

import type { PendingSignIn, PendingSignInStore } from '../../security/oauth/pending-sign-ins.js';

export class MemoryPendingSignIns implements PendingSignInStore {
  readonly #pending = new Map<string, PendingSignIn>();
  readonly #max: number;

  /** `max`: sign-ins held at once (default 10,000). */
  constructor(options: { readonly max?: number } = {}) {
    this.#max = options.max ?? 10_000;
  }

  async put(key: string, pending: PendingSignIn, now: number): Promise<void> {
    for (const [held, entry] of this.#pending) if (!(now < entry.expiresAt)) this.#pending.delete(held);
    this.#pending.delete(key);
    while (this.#pending.size >= this.#max) this.#pending.delete(this.#pending.keys().next().value as string);
    this.#pending.set(key, pending);
  }

  async take(key: string, browser: string, now: number): Promise<PendingSignIn | undefined> {
    const pending = this.#pending.get(key);
    if (pending === undefined || !(now < pending.expiresAt)) return undefined;
    if (pending.browser !== browser) return undefined;
    this.#pending.delete(key);
    return pending;
  }
}
