/**
 * @module security/ban-list
 * The brute-force guard: more than `threshold` authentication failures from one client within
 * a minute bans that client for `banMs`. Failures are counted with the same exact rolling
 * window as the rate limiter; bans expire by themselves.
 */

import { MemoryRateLimitStore } from '../store/memory/rate-limit.js';

const FAILURE_WINDOW_MS = 60_000;

export interface Ban {
  readonly client: string;
  /** Epoch ms when the ban ends. */
  readonly until: number;
}

export interface BanListOptions {
  /** Failures per minute tolerated; the next one bans. 0 disables the guard. */
  readonly threshold: number;
  readonly banMs: number;
  readonly now?: () => number;
  readonly maxClients?: number;
}

export class BanList {
  readonly #threshold: number;
  readonly #banMs: number;
  readonly #now: () => number;
  readonly #failures: MemoryRateLimitStore | undefined;
  readonly #bans = new Map<string, number>();

  constructor(options: BanListOptions) {
    this.#threshold = options.threshold;
    this.#banMs = options.banMs;
    this.#now = options.now ?? Date.now;
    this.#failures =
      options.threshold > 0
        ? new MemoryRateLimitStore({ windowMs: FAILURE_WINDOW_MS, maxLimit: options.threshold, maxClients: options.maxClients ?? 100_000 })
        : undefined;
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

  /** Counts one authentication failure; returns the new ban when this failure crossed the threshold. */
  recordFailure(client: string): Ban | undefined {
    if (this.#failures === undefined || this.bannedUntil(client) !== undefined) return undefined;
    if (this.#failures.consume(client, this.#threshold).allowed) return undefined;
    return this.ban(client);
  }

  /** Bans a client now (also used when another replica reports a ban). */
  ban(client: string, until = this.#now() + this.#banMs): Ban {
    this.#bans.set(client, until);
    this.#failures?.reset(client);
    return { client, until };
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
    this.#failures?.close();
  }
}
