/**
 * @module store/memory/session-store
 * Session metadata held in this process only (the embedded default): a map with expiry.
 */

import type { SessionMeta, SessionStore } from '../types.js';

export class MemorySessionStore implements SessionStore {
  readonly #entries = new Map<string, { meta: SessionMeta; expiresAt: number }>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async save(meta: SessionMeta, ttlMs: number): Promise<void> {
    this.#entries.set(meta.id, { meta, expiresAt: this.#now() + ttlMs });
  }

  async load(id: string): Promise<SessionMeta | undefined> {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.meta;
  }

  async touch(id: string, ttlMs: number): Promise<void> {
    const entry = this.#entries.get(id);
    if (entry !== undefined) entry.expiresAt = this.#now() + ttlMs;
  }

  async delete(id: string): Promise<void> {
    this.#entries.delete(id);
  }
}
