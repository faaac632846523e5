/**
 * @module store/redis/session-store
 * Session metadata in Redis, one hash per session with a TTL, so any replica can rebuild a
 * session it does not hold. About 300-600 bytes per session (measured: see the README).
 * Each hash carries a tag (`mac`) over its fields and its key name made with the shared secret:
 * a session whose record was forged, edited (say its owner) or copied to another id does not
 * exist for any replica.
 */

import type { Redis } from 'ioredis';
import type { SessionMeta, SessionStore } from '../types.js';
import type { RedisKeys } from './keys.js';
import type { RecordSeal } from './sealed-records.js';

const FIELDS = ['principal', 'version', 'clientInfo', 'capabilities', 'created'] as const;

/** The signed form of a session's fields: a JSON array in a fixed order (unambiguous). */
function canonical(fields: Readonly<Record<string, string | undefined>>): string {
  return JSON.stringify(FIELDS.map((name) => fields[name] ?? null));
}

export class RedisSessionStore implements SessionStore {
  readonly #client: Redis;
  readonly #keys: RedisKeys;
  readonly #seal: RecordSeal;

  constructor(options: { client: Redis; keys: RedisKeys; seal: RecordSeal }) {
    this.#client = options.client;
    this.#keys = options.keys;
    this.#seal = options.seal;
  }

  async save(meta: SessionMeta, ttlMs: number): Promise<void> {
    const key = this.#keys.session(meta.id);
    const fields = {
      principal: meta.principalId,
      version: meta.protocolVersion,
      clientInfo: JSON.stringify(meta.clientInfo ?? null),
      capabilities: JSON.stringify(meta.clientCapabilities ?? null),
      created: String(meta.createdAt),
    };
    await this.#client
      .multi()
      .hset(key, { ...fields, mac: this.#seal.tag(key, canonical(fields)) })
      .pexpire(key, ttlMs)
      .exec();
  }

  async load(id: string): Promise<SessionMeta | undefined> {
    const key = this.#keys.session(id);
    const fields = await this.#client.hgetall(key);
    if (fields['principal'] === undefined || fields['version'] === undefined) return undefined;
    // Fail closed: an owner that cannot be verified owns nothing (the session is 404 for all).
    if (!this.#seal.check('session', key, canonical(fields), fields['mac'])) return undefined;
    return {
      id,
      principalId: fields['principal'],
      protocolVersion: fields['version'],
      clientInfo: JSON.parse(fields['clientInfo'] ?? 'null') as unknown,
      clientCapabilities: JSON.parse(fields['capabilities'] ?? 'null') as unknown,
      createdAt: Number(fields['created'] ?? 0),
    };
  }

  async touch(id: string, ttlMs: number): Promise<void> {
    await this.#client.pexpire(this.#keys.session(id), ttlMs);
  }

  async delete(id: string): Promise<void> {
    await this.#client.del(this.#keys.session(id));
  }
}
