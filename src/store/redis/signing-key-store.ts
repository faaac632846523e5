/**
 * @module store/redis/signing-key-store
 * The authorization server's signing keys in Redis, shared by the replicas so that a token one
 * replica signed verifies on every other (issue 14, Must 6). They are private keys: the list is
 * stored encrypted and authenticated with AES-256-GCM under a key derived by HKDF from the
 * shared secret (purpose `oauth signing key v1`, the Redis key name as associated data), so
 * whoever reads Redis cannot sign tokens and whoever writes it cannot plant a key of their own.
 *
 * One hash holds `cur` (the current key's id, public: a JWK thumbprint) and `keys` (the sealed
 * list). A change is a compare-and-set on `cur` in one Lua script: two replicas starting (or
 * rotating) together both propose a key, one wins, the other adopts it (security/oauth/signing-keys).
 * Keys found sealed under the previous shared secret are sealed again under the current one.
 * No library: node:crypto's AES-GCM and HKDF are all it takes.
 */

import type { Redis } from 'ioredis';
import type { SharedSecret } from '../../security/shared-secret.js';
import type { SigningKeyStore, StoredSigningKey } from '../../security/oauth/signing-keys.js';
import { runScript, type LuaScript } from './scripts.js';

const PURPOSE = 'oauth signing key v1';

/** KEYS[1] the hash; ARGV expected kid ('' for none), new kid, sealed keys. {1} when replaced, else {0, stored sealed keys}. */
const REPLACE = `
local cur = redis.call('HGET', KEYS[1], 'cur') or ''
if cur == ARGV[1] then
  redis.call('HSET', KEYS[1], 'cur', ARGV[2], 'keys', ARGV[3])
  return {1}
end
return {0, redis.call('HGET', KEYS[1], 'keys') or ''}
`;
const REPLACE_SCRIPT: LuaScript = { name: 'wardenOAuthReplaceSigningKeys', keys: 1, lua: REPLACE };

/** The stored keys fail their check (forged, or sealed with another shared secret). */
export class SealedKeysError extends Error {
  constructor() {
    super('the OAuth signing keys stored in Redis failed their integrity check (forged, or sealed with another shared secret)');
    this.name = 'SealedKeysError';
  }
}

export interface RedisSigningKeyStoreOptions {
  readonly client: Redis;
  /** The hash's key name (RedisKeys.oauthSigningKeys). */
  readonly key: string;
  readonly secret: SharedSecret;
  /** How long the first use waits for the connection, ms (default 10,000). */
  readonly readyTimeoutMs?: number;
}

/**
 * @example
 * const store = new RedisSigningKeyStore({ client, key: keys.oauthSigningKeys, secret });
 * const signingKeys = await SigningKeys.open({ store, overlapMs: 660_000 });
 */
export class RedisSigningKeyStore implements SigningKeyStore {
  readonly #client: Redis;
  readonly #key: string;
  readonly #secret: SharedSecret;
  readonly #readyTimeoutMs: number;

  constructor(options: RedisSigningKeyStoreOptions) {
    this.#readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
    this.#client = options.client;
    this.#key = options.key;
    this.#secret = options.secret;
  }

  /**
   * Waits for the connection (at start it is still connecting and queues nothing): the keys are
   * needed before the first token; a Redis that does not answer within `readyTimeoutMs` fails the start.
   */
  async #ready(): Promise<void> {
    if (this.#client.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#client.off('ready', onReady);
        reject(new Error(`Redis did not answer within ${this.#readyTimeoutMs} ms: the OAuth signing keys live there`));
      }, this.#readyTimeoutMs);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#client.once('ready', onReady);
    });
  }

  async load(): Promise<readonly StoredSigningKey[]> {
    await this.#ready();
    const [cur, sealed] = await this.#retrying(() => this.#client.hmget(this.#key, 'cur', 'keys'));
    const keys = this.#open(sealed);
    // Sealed under the previous shared secret (a rotation of it is under way): sealed again under
    // the current one, so that dropping the previous secret (its step 3) does not lock every
    // replica that starts afterwards out of the keys. A compare-and-set: a concurrent change wins.
    if (sealed !== null && sealed !== undefined && keys.length > 0 && sealed.slice(0, sealed.indexOf('.')) !== this.#secret.keyId) {
      const resealed = this.#seal(keys);
      await this.#retrying(() => runScript(this.#client, REPLACE_SCRIPT, this.#key, cur ?? '', cur ?? '', resealed));
    }
    return keys;
  }

  async save(keys: readonly StoredSigningKey[]): Promise<void> {
    const sealed = this.#seal(keys);
    await this.#retrying(() => this.#client.hset(this.#key, { cur: keys[0]?.kid ?? '', keys: sealed }));
  }

  async replace(expectedKid: string | undefined, keys: readonly StoredSigningKey[]): Promise<readonly StoredSigningKey[]> {
    await this.#ready();
    const sealed = this.#seal(keys);
    // Safe to retry: if a timed-out attempt did replace, the retry finds our kid as current and
    // returns the stored list, which is ours.
    const [replaced, stored] = (await this.#retrying(() => runScript(this.#client, REPLACE_SCRIPT, this.#key, expectedKid ?? '', keys[0]?.kid ?? '', sealed))) as [number, string | undefined];
    return replaced === 1 ? keys : this.#open(stored);
  }

  /** Whether a call has succeeded yet: after that, calls are on the request path and never retried. */
  #started = false;

  /**
   * At start (until a first call succeeds), runs a call again after a timeout or a dropped
   * connection, for up to `readyTimeoutMs`: the per-call timeout (`--redis-timeout`, 50 ms by
   * default) is sized for the request path, and a busy Redis or host must not fail a replica's
   * start. Later calls (a reload for an unknown kid, a rotation during a token request) fail at
   * once, and the caller keeps the keys it has.
   */
  async #retrying<T>(call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#readyTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await call();
        this.#started = true;
        return result;
      } catch (error) {
        const transient = error instanceof Error && /timed out|Connection is closed|Stream isn't writeable|ECONNRE/i.test(error.message);
        if (this.#started || !transient || Date.now() >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * attempt, 500)));
        if (this.#client.status !== 'ready') await this.#ready();
      }
    }
  }

  #seal(keys: readonly StoredSigningKey[]): string {
    return this.#secret.encrypt(PURPOSE, JSON.stringify({ keys }), this.#key);
  }

  /** The sealed list's keys; [] when none is stored; throws {@link SealedKeysError} when it fails its check. */
  #open(sealed: string | null | undefined): readonly StoredSigningKey[] {
    if (sealed === null || sealed === undefined || sealed === '') return [];
    const plain = this.#secret.decrypt(PURPOSE, sealed, this.#key);
    if (plain === undefined) throw new SealedKeysError();
    const parsed = JSON.parse(plain) as { keys?: unknown };
    if (!Array.isArray(parsed.keys)) throw new SealedKeysError();
    return parsed.keys.filter(
      (key): key is StoredSigningKey => typeof key === 'object' && key !== null && typeof key.kid === 'string' && typeof key.createdAt === 'number' && typeof key.privateJwk === 'object',
    );
  }
}
