/**
 * @module security/ban-list
 * The brute-force guard: more than `threshold` authentication failures from one client within
 * a minute bans that client for `banMs`. Failures are counted with the same exact rolling
 * window as the rate limiter; bans expire by themselves. The failure table holds at most
 * `maxClients` clients; beyond it the least recently failing one is forgotten (never a shared
 * counter: one client's failures must never ban another).
 *
 * The table of active bans holds at most `maxBans` (default {@link DEFAULT_MAX_BANS}); expired
 * bans leave it on lookup, on `list()`, and on a timer (every `pruneIntervalMs`, by the
 * injectable clock). When it is full, expired bans are pruned first; if every entry is still
 * active, the new ban is refused (`onFull`, a warn line) rather than an active ban evicted: an
 * attacker who fills the table cannot unban anyone, and the refused client is still limited
 * by the rate limit and still answered 401 for every wrong key.
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
  /** Active bans held at once (default {@link DEFAULT_MAX_BANS}). */
  readonly maxBans?: number;
  /** How often expired bans are dropped without a lookup (default {@link BAN_PRUNE_INTERVAL_MS}; 0: never). */
  readonly pruneIntervalMs?: number;
  /** Told about each ban refused because the table is full of active bans. */
  readonly onFull?: (client: string) => void;
}

/** Default cap of the table of active bans. */
export const DEFAULT_MAX_BANS = 100_000;

/** Default interval of the timer that drops expired bans. */
export const BAN_PRUNE_INTERVAL_MS = 60_000;

/** Window of the failure count, for a shared failure store. */
export const BAN_FAILURE_WINDOW_MS = 60_000;

export class BanList {
  readonly #threshold: number;
  readonly #banMs: number;
  readonly #now: () => number;
  readonly #failures: RateLimitStore | undefined;
  #onBan: ((ban: Ban) => void) | undefined;
  readonly #bans = new Map<string, number>();
  readonly #maxBans: number;
  readonly #onFull: ((client: string) => void) | undefined;
  #pruneTimer: NodeJS.Timeout | undefined;

  constructor(options: BanListOptions) {
    this.#threshold = options.threshold;
    this.#banMs = options.banMs;
    this.#now = options.now ?? Date.now;
    this.#onBan = options.onBan;
    this.#maxBans = options.maxBans ?? DEFAULT_MAX_BANS;
    if (!(this.#maxBans >= 1)) throw new RangeError('maxBans must be at least 1');
    this.#onFull = options.onFull;
    const pruneIntervalMs = options.pruneIntervalMs ?? BAN_PRUNE_INTERVAL_MS;
    if (pruneIntervalMs > 0) {
      this.#pruneTimer = setInterval(() => this.prune(), pruneIntervalMs);
      this.#pruneTimer.unref();
    }
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

  /** Entries in the table of bans (expired ones not yet pruned included). */
  get size(): number {
    return this.#bans.size;
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

  /**
   * Bans a client now; `announce` false for bans learnt from another replica. Returns undefined
   * when the table is full of active bans (the ban is refused, `onFull` is told).
   */
  ban(client: string, until = this.#now() + this.#banMs, announce = true): Ban | undefined {
    const current = this.#bans.get(client);
    if (current === undefined && this.#bans.size >= this.#maxBans && this.prune() === 0) {
      this.#onFull?.(client);
      return undefined;
    }
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

  /** Drops expired bans; returns how many. */
  prune(): number {
    const now = this.#now();
    let pruned = 0;
    for (const [client, until] of this.#bans) {
      if (until > now) continue;
      this.#bans.delete(client);
      pruned++;
    }
    return pruned;
  }

  close(): void {
    if (this.#pruneTimer !== undefined) clearInterval(this.#pruneTimer);
    this.#pruneTimer = undefined;
    void this.#failures?.close();
  }
}
