/**
 * @module store/redis/startup-sync
 * What a replica must know before it serves: the key restrictions (revocations, expiries) and
 * bans other replicas wrote to Redis before it started. Without them, a replica started after
 * `keys revoke` with a stale keys file would accept the revoked key. The sync retries with
 * backoff (100 ms doubling to 2 s) until Redis answers; the replica reports not-ready until then
 * (see `/ready`).
 */

import type { Redis } from 'ioredis';
import type { KeyRestriction } from '../types.js';
import type { RedisKeys } from './keys.js';
import { openBan, openRestrictions, type RecordSeal } from './sealed-records.js';

export interface SharedStartState {
  readonly restrictions: KeyRestriction[];
  readonly bans: Array<{ client: string; until: number }>;
}

/** Reads the restrictions and live bans stored in Redis (throws when Redis fails). */
export async function readStartState(client: Redis, keys: RedisKeys, seal: RecordSeal, now: () => number = Date.now): Promise<SharedStartState> {
  // Only records that pass their integrity check (sealed with the shared secret) are applied.
  const restrictions: KeyRestriction[] = openRestrictions(seal, keys.keyRestrictions, await client.hgetall(keys.keyRestrictions));
  const bans: Array<{ client: string; until: number }> = [];
  const prefix = keys.ban('');
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', keys.banPattern, 'COUNT', 500);
    cursor = next;
    if (batch.length === 0) continue;
    const values = await client.mget(batch);
    batch.forEach((key, index) => {
      const until = openBan(seal, key, values[index]);
      if (until !== undefined && until > now()) bans.push({ client: key.slice(prefix.length), until });
    });
  } while (cursor !== '0');
  return { restrictions, bans };
}

export interface StartupSyncOptions {
  /** One attempt; throws when Redis fails. */
  readonly attempt: () => Promise<void>;
  readonly onError?: (error: unknown) => void;
  /** First retry delay, ms (default 100); doubles up to `maxDelayMs` (default 2000). */
  readonly delayMs?: number;
  readonly maxDelayMs?: number;
}

/** Runs `attempt` until it succeeds; `done` settles then (never rejects). */
export class StartupSync {
  readonly done: Promise<void>;
  #synced = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  constructor(options: StartupSyncOptions) {
    this.done = this.#run(options);
  }

  get synced(): boolean {
    return this.#synced;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#wake?.();
  }

  async #run(options: StartupSyncOptions): Promise<void> {
    let delay = options.delayMs ?? 100;
    while (!this.#stopped) {
      try {
        await options.attempt();
        this.#synced = true;
        return;
      } catch (error) {
        options.onError?.(error);
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, delay);
        this.#timer.unref();
      });
      delay = Math.min(delay * 2, options.maxDelayMs ?? 2000);
    }
  }
}
