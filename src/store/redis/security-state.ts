/**
 * @module store/redis/security-state
 * The security decisions replicas keep in Redis: bans (one sealed key each, expiring with the
 * ban) and key restrictions (one sealed field each in one hash). A replica writes its own here
 * and reads everyone's at start (see `startup-sync`): a replica started after `keys revoke` with
 * a stale keys file must not accept the revoked key. Every record is sealed with the shared
 * secret (see `sealed-records`); what fails its check is not applied.
 */

import type { Redis } from 'ioredis';
import type { KeyRestriction } from '../types.js';
import type { RedisKeys } from './keys.js';
import { openBan, openRestrictions, sealBan, sealRestriction, type RecordSeal } from './sealed-records.js';

/** What a replica applies before it serves. */
export interface SharedStartState {
  readonly restrictions: KeyRestriction[];
  readonly bans: Array<{ client: string; until: number }>;
}

export interface RedisSecurityStateOptions {
  readonly client: Redis;
  readonly keys: RedisKeys;
  readonly seal: RecordSeal;
}

/**
 * Bans and key restrictions in Redis.
 *
 * @example
 * const state = new RedisSecurityState({ client, keys, seal });
 * await state.saveBan('203.0.113.7', Date.now() + 60_000);
 * const { bans, restrictions } = await state.readStartState();
 */
export class RedisSecurityState {
  readonly #client: Redis;
  readonly #keys: RedisKeys;
  readonly #seal: RecordSeal;

  constructor(options: RedisSecurityStateOptions) {
    this.#client = options.client;
    this.#keys = options.keys;
    this.#seal = options.seal;
  }

  /** Stores a ban of `client` until `until` (epoch ms); the record expires with the ban. */
  async saveBan(client: string, until: number, now: () => number = Date.now): Promise<void> {
    const key = this.#keys.ban(client);
    await this.#client.set(key, sealBan(this.#seal, key, until), 'PX', Math.max(1, until - now()));
  }

  /** Stores (or replaces) the restrictions of these keys. */
  async saveRestrictions(restrictions: readonly KeyRestriction[]): Promise<void> {
    const fields: Record<string, string> = {};
    for (const restriction of restrictions) fields[restriction.id] = sealRestriction(this.#seal, this.#keys.keyRestrictions, restriction);
    await this.#client.hset(this.#keys.keyRestrictions, fields);
  }

  /** Reads the restrictions and live bans stored in Redis (throws when Redis fails). */
  async readStartState(now: () => number = Date.now): Promise<SharedStartState> {
    const keys = this.#keys;
    // Only records that pass their integrity check (sealed with the shared secret) are applied.
    const restrictions: KeyRestriction[] = openRestrictions(this.#seal, keys.keyRestrictions, await this.#client.hgetall(keys.keyRestrictions));
    const bans: Array<{ client: string; until: number }> = [];
    const prefix = keys.ban('');
    let cursor = '0';
    do {
      const [next, batch] = await this.#client.scan(cursor, 'MATCH', keys.banPattern, 'COUNT', 500);
      cursor = next;
      if (batch.length === 0) continue;
      const values = await this.#client.mget(batch);
      batch.forEach((key, index) => {
        const until = openBan(this.#seal, key, values[index]);
        if (until !== undefined && until > now()) bans.push({ client: key.slice(prefix.length), until });
      });
    } while (cursor !== '0');
    return { restrictions, bans };
  }
}
