/**
 * @module security/ban-list
 * The brute-force guard: more than `threshold` authentication failures from one client within
 * a minute bans that client for `banMs`. Failures are counted with the same exact rolling
 * window as the rate limiter; bans expire by themselves. The failure table holds at most
 * `maxClients` clients; beyond it the least recently failing one is forgotten (never a shared
 * counter: one client's failures must never ban another).
 */

import { MemoryRateLimitStore } from '../store/memory/rate-limit.js';
import type { RateLimitStore } from '../store/types.js';


export interface Ban {
  readonly client: string;
  /** Epoch ms when the ban ends. */
  readonly until: number;
}

export interface BanListOptions {
  /** Failures per minute tolerated; the next one bans. 0 disables the guard. */
  readonly threshold: number;
  readonly banMs: number;
  /** Clock in epoch ms for bans (and, for the default store, the failure window). */
  readonly now?: () => number;
  /** Clients whose failures are tracked at once (default 100,000); for the default store only. */
  readonly maxClients?: number;
  /** Where failures are counted (a shared store counts them across replicas); default in memory. */
  readonly failures?: RateLimitStore;
  /** Told about each ban this replica decides (to share it). */
  readonly onBan?: (ban: Ban) => void;
}

/** Window of the failure count, for a shared failure store. */
export const BAN_FAILURE_WINDOW_MS = 60_000;

export class BanList {
  readonly #threshold: number;
  readonly #banMs: number;
  readonly #now: () => number;
  readonly #failures: RateLimitStore | undefined;
  #onBan: ((ban: Ban) => void) | undefined;
  readonly #bans = new Map<string, number>();

  constructor(options: BanListOptions) {
    this.#threshold = options.threshold;
    this.#banMs = options.banMs;
    this.#now = options.now ?? Date.now;
    this.#onBan = options.onBan;
    this.#failures =
      options.threshold > 0
        ? (options.failures ?? new MemoryRateLimitStore({
            windowMs: BAN_FAILURE_WINDOW_MS,
            maxLimit: options.threshold,
            maxClients: options.maxClients ?? 100_000,
            overflow: 'evict',
            // An injected clock drives the failure window too (tests); otherwise the monotonic default.
            ...(options.now === undefined ? {} : { now: options.now }),
          }))
        : undefined;
  }

  /** Sets who is told about bans decided here (sharing with other replicas). */
  onShare(handler: (ban: Ban) => void): void {
    this.#onBan = handler;
  }

  /** True while some client is banned (lets the per-request check skip computing the client key). */
  get active(): boolean {
    return this.#bans.size > 0;
  }

  get enabled(): boolean {
    return this.#failures !== undefined;
  }

  /** Epoch ms when the client's ban ends, or undefined when it is not banned. */
  bannedUntil(client: string): number | undefined {
    if (this.#bans.size === 0) return undefined;
    const until = this.#bans.get(client);
    if (until === undefined) return undefined;
    if (until <= this.#now()) {
      this.#bans.delete(client);
      return undefined;
    }
    return until;
  }

  /** Whole seconds until a ban ending at `until` is over (Retry-After), by this list's clock. */
  secondsLeft(until: number): number {
    return Math.max(1, Math.ceil((until - this.#now()) / 1000));
  }

  /** Counts one authentication failure; returns the new ban when this failure crossed the threshold. */
  recordFailure(client: string): Ban | undefined | Promise<Ban | undefined> {
    if (this.#failures === undefined || this.bannedUntil(client) !== undefined) return undefined;
    const decision = this.#failures.consume(client, this.#threshold);
    if (decision instanceof Promise) {
      return decision.then(
        (value) => (value.allowed ? undefined : this.ban(client)),
        () => undefined,
      );
    }
    return decision.allowed ? undefined : this.ban(client);
  }

  /** Bans a client now; `announce` false for bans learnt from another replica. */
  ban(client: string, until = this.#now() + this.#banMs, announce = true): Ban {
    const current = this.#bans.get(client);
    const ban = { client, until: current === undefined ? until : Math.max(current, until) };
    this.#bans.set(client, ban.until);
    if (announce) {
      void Promise.resolve(this.#failures?.reset(client)).catch(() => undefined);
      this.#onBan?.(ban);
    }
    return ban;
  }

  /** Current bans, soonest ending first. */
  list(): Ban[] {
    const now = this.#now();
    const bans: Ban[] = [];
    for (const [client, until] of this.#bans) {
      if (until > now) bans.push({ client, until });
      else this.#bans.delete(client);
    }
    return bans.sort((a, b) => a.until - b.until);
  }

  close(): void {
    void this.#failures?.close();
  }
}
