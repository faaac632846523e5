/**
 * @module store/redis/resilience
 * How a replica behaves while Redis is slow, down, full or emptied: truthful health (an error
 * rate over a short window, not only the socket), a heartbeat that tells each replica how many
 * share the limits, a start-up sync retried until Redis answers (the replica is not ready
 * before), and recovery work (re-seeding limits after Redis lost its data, re-publishing what
 * was decided during an outage). Built by `shared-state` for `--redis-url` only.
 */

import type { Redis } from 'ioredis';
import type { KeyRestriction } from '../types.js';
import { Heartbeat } from './heartbeat.js';
import { RedisHealth, type RedisFailureKind } from './health.js';
import type { RedisKeys } from './keys.js';
import type { RedisSecurityState } from './security-state.js';
import { StartupSync } from './startup-sync.js';

const DETAILS: Readonly<Record<RedisFailureKind, string>> = {
  redis_down: 'redis unreachable; limits are per replica',
  redis_timeouts: 'redis calls time out; limits are per replica',
  redis_oom: 'redis is out of memory (maxmemory); limits are per replica',
  redis_errors: 'redis calls fail; limits are per replica',
};

export interface ResilienceOptions {
  readonly client: Redis;
  readonly keys: RedisKeys;
  /** The bans and key restrictions read at start-up. */
  readonly securityState: RedisSecurityState;
  readonly replicaId: string;
  /** Whether the command connection is up. */
  readonly connected: () => boolean;
  /** Why the connection is down. */
  readonly downReason: () => string | undefined;
  /** A Redis call failed (counted and logged by the caller). */
  readonly onFailure: (error: unknown) => void;
  readonly onLog: (level: 'info' | 'warn', fields: Record<string, unknown>, message: string) => void;
  readonly heartbeatMs?: number;
  readonly now?: () => number;
}

/** A limiter that can write this replica's counts back after Redis lost its data (see shared-state/shared-rate-limit). */
export interface ReseedableLimiter {
  /** Writes the current window's counts to Redis again; resolves to the clients seeded. */
  reseed(): Promise<number>;
}

export interface SyncTargets {
  applyRestrictions?: (restrictions: KeyRestriction[]) => void;
  applyBan?: (client: string, until: number) => void;
}

export class RedisResilience {
  readonly health: RedisHealth;
  readonly heartbeat: Heartbeat;
  readonly targets: SyncTargets = {};
  readonly #options: ResilienceOptions;
  readonly #limiters: ReseedableLimiter[] = [];
  readonly #recovered: Array<() => void | Promise<void>> = [];
  #sync: StartupSync | undefined;

  constructor(options: ResilienceOptions) {
    this.#options = options;
    this.health = new RedisHealth({ now: options.now });
    this.heartbeat = new Heartbeat({
      client: options.client,
      replicasKey: options.keys.replicas,
      bootKey: options.keys.boot,
      replicaId: options.replicaId,
      intervalMs: options.heartbeatMs,
      onSuccess: () => this.health.success(),
      onError: (error) => options.onFailure(error),
      onRecovered: () => void this.#recover(false),
      onReset: () => void this.#recover(true),
    });
  }

  /** Limiters to re-seed after Redis lost its data. */
  addLimiter<T extends ReseedableLimiter>(store: T): T {
    this.#limiters.push(store);
    return store;
  }

  onRecovered(handler: () => void | Promise<void>): void {
    this.#recovered.push(handler);
  }

  get synced(): boolean {
    return this.#sync?.synced === true;
  }

  /** Starts the sync and the heartbeat (once); resolves true when synced within `timeoutMs`. */
  ready(timeoutMs: number): Promise<boolean> {
    if (this.#sync === undefined) {
      this.#sync = new StartupSync({
        attempt: async () => {
          const state = await this.#options.securityState.readStartState();
          this.targets.applyRestrictions?.(state.restrictions);
          for (const ban of state.bans) this.targets.applyBan?.(ban.client, ban.until);
          this.#options.onLog('info', { restrictions: state.restrictions.length, bans: state.bans.length }, 'shared state synced from redis');
          // What this replica decided before Redis answered (its keys file, bans, sessions) is written now.
          void this.#recover(false);
        },
        onError: (error) => this.#options.onFailure(error),
      });
      this.heartbeat.start();
    }
    if (this.#sync.synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      void (this.#sync as StartupSync).done.then(() => {
        clearTimeout(timer);
        resolve(this.synced);
      });
    });
  }

  /** `ok`, or `degraded` with a reason code when the socket is down or calls keep failing. */
  report(): { status: 'ok' | 'degraded'; reason?: RedisFailureKind; detail?: string } {
    const reason: RedisFailureKind | undefined = this.#options.connected() ? this.health.reason() : 'redis_down';
    if (reason === undefined) return { status: 'ok' };
    const down = reason === 'redis_down' ? this.#options.downReason() : undefined;
    return { status: 'degraded', reason, detail: down === undefined ? DETAILS[reason] : `${DETAILS[reason]} (${down})` };
  }

  async close(): Promise<void> {
    this.#sync?.stop();
    await this.heartbeat.stop();
  }

  async #recover(reset: boolean): Promise<void> {
    if (reset) {
      let seeded = 0;
      for (const limiter of this.#limiters) {
        try {
          seeded += await limiter.reseed();
        } catch (error) {
          this.#options.onFailure(error);
        }
      }
      this.#options.onLog('warn', { seededClients: seeded }, 'redis lost its data (new boot marker): re-seeded this replica\u2019s counts for the current window');
    }
    for (const handler of this.#recovered) {
      try {
        await handler();
      } catch (error) {
        this.#options.onFailure(error);
      }
    }
  }
}
