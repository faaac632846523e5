/**
 * @module store/redis/pending-sign-ins
 * Pending upstream OpenID Connect sign-ins in Redis ({@link PendingSignInStore}), so the
 * provider's callback may land on any replica behind the load balancer (issue 14, Must 6).
 *
 * The record holds secrets (the PKCE verifier and the nonce sent to the provider), so it is
 * encrypted and authenticated, not only tagged: AES-256-GCM under a key derived by HKDF from the
 * shared secret (purpose `oauth upstream sign-in v1`), with the Redis key name as associated data
 * (as store/redis/signing-key-store does). Whoever reads Redis learns neither; whoever writes it
 * can neither plant a sign-in nor move one to another state. The key is the SHA-256 digest of the
 * `state`, so the state itself (a bearer value in the provider's redirect) is not in Redis either.
 *
 * Stored as `<browser digest> <sealed record>` with a TTL from the record's expiry. Taking is one
 * Lua script: compare the browser digest, then delete and return, so a sign-in is completed once
 * across all replicas and a callback from another browser does not spend it. The digest in clear
 * only steers the script; the sealed copy inside the record decides. What a Redis writer can still
 * do is delete pending sign-ins (deny service). No library: node:crypto via security/shared-secret.
 */

import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { PendingSignIn, PendingSignInStore } from '../../security/oauth/pending-sign-ins.js';
import type { SharedSecret } from '../../security/shared-secret.js';
import { authorizationRequestOf, authorizationRequestSchema } from './authorization-request.js';
import type { RedisKeys } from './keys.js';
import { openEncryptedJson } from './sealed-records.js';
import { runScript, type LuaScript } from './scripts.js';

const PURPOSE = 'oauth upstream sign-in v1';

/** KEYS[1] the sign-in; ARGV[1] the browser digest. The sealed record when it matched (and is now deleted), else false. */
const TAKE = `
local value = redis.call('GET', KEYS[1])
if not value then return false end
local space = string.find(value, ' ', 1, true)
if not space or string.sub(value, 1, space - 1) ~= ARGV[1] then return false end
redis.call('DEL', KEYS[1])
return string.sub(value, space + 1)
`;
const TAKE_SCRIPT: LuaScript = { name: 'wardenOAuthTakeSignIn', keys: 1, lua: TAKE };

const recordSchema = z.strictObject({
  request: authorizationRequestSchema,
  nonce: z.string().max(128),
  verifier: z.string().max(128),
  browser: z.string().max(128),
  expiresAt: z.number(),
});

export interface RedisPendingSignInsOptions {
  readonly client: Redis;
  readonly keys: RedisKeys;
  readonly secret: SharedSecret;
  /** Called for a stored record that does not open (the rejected-records counter). */
  readonly onReject?: () => void;
}

/**
 * @example
 * const pending = new RedisPendingSignIns({ client, keys: redisKeys('mcpw:'), secret });
 * const upstream = new UpstreamOidc({ ...options, pending });
 */
export class RedisPendingSignIns implements PendingSignInStore {
  readonly #client: Redis;
  readonly #keys: RedisKeys;
  readonly #secret: SharedSecret;
  readonly #onReject: () => void;

  constructor(options: RedisPendingSignInsOptions) {
    this.#client = options.client;
    this.#keys = options.keys;
    this.#secret = options.secret;
    this.#onReject = options.onReject ?? (() => undefined);
  }

  async put(key: string, pending: PendingSignIn, now: number): Promise<void> {
    const name = this.#keys.oauthSignIn(key);
    const sealed = this.#secret.encrypt(PURPOSE, JSON.stringify(pending), name);
    await this.#client.set(name, `${pending.browser} ${sealed}`, 'PX', Math.max(1, Math.ceil(pending.expiresAt - now)));
  }

  async take(key: string, browser: string, now: number): Promise<PendingSignIn | undefined> {
    const name = this.#keys.oauthSignIn(key);
    const sealed = (await runScript(this.#client, TAKE_SCRIPT, name, browser)) as string | null;
    if (sealed === null) return undefined;
    const pending = this.#open(name, sealed);
    // The sealed browser digest and expiry decide; the clear copy only steered the script.
    if (pending === undefined || pending.browser !== browser || !(now < pending.expiresAt)) return undefined;
    return pending;
  }

  /** The record, or undefined when it does not decrypt under this key name (forged, moved, another secret). */
  #open(name: string, sealed: string): PendingSignIn | undefined {
    const parsed = openEncryptedJson(this.#secret, PURPOSE, name, sealed, recordSchema, this.#onReject);
    return parsed === undefined ? undefined : { ...parsed, request: authorizationRequestOf(parsed.request) };
  }
}
