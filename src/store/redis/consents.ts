/**
 * @module store/redis/consents
 * Pending consents in Redis ({@link ConsentStore}: key sign-in, and approval after an upstream
 * sign-in with the identity it vouched for), so the consent form's post
 * may land on another replica than the page (issue 14, Must 6). Each is one value with a TTL from
 * its expiry, encrypted and authenticated like the pending upstream sign-ins (AES-256-GCM under an
 * HKDF key from the shared secret, purpose `oauth consent v1`, the key name as associated data):
 * it holds the client's `state`, and a Redis writer must not plant a consent or move one to
 * another id. The form's CSRF tag is made with the shared secret too (security/oauth/consent), so
 * any replica can check it. A Redis writer can still delete consents (deny service).
 */

import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { ConsentStore, PendingConsent } from '../../security/oauth/consent.js';
import type { SharedSecret } from '../../security/shared-secret.js';
import { authorizationRequestOf, authorizationRequestSchema } from './authorization-request.js';
import type { RedisKeys } from './keys.js';
import { openEncryptedJson } from './sealed-records.js';

const PURPOSE = 'oauth consent v1';

const identitySchema = z.strictObject({ subject: z.string().max(2000), email: z.string().max(2000).optional(), scopes: z.array(z.string().max(256)).max(256) });
const recordSchema = z.strictObject({ id: z.string().max(64), request: authorizationRequestSchema, identity: identitySchema.optional(), expiresAt: z.number() });

export interface RedisConsentStoreOptions {
  readonly client: Redis;
  readonly keys: RedisKeys;
  readonly secret: SharedSecret;
  /** Called for a stored record that does not open (the rejected-records counter). */
  readonly onReject?: () => void;
}

/**
 * @example
 * const consents = new ConsentTransactions({ store: new RedisConsentStore({ client, keys, secret }), csrf: sharedCsrfSigner(secret) });
 */
export class RedisConsentStore implements ConsentStore {
  readonly #client: Redis;
  readonly #keys: RedisKeys;
  readonly #secret: SharedSecret;
  readonly #onReject: () => void;

  constructor(options: RedisConsentStoreOptions) {
    this.#client = options.client;
    this.#keys = options.keys;
    this.#secret = options.secret;
    this.#onReject = options.onReject ?? (() => undefined);
  }

  async put(pending: PendingConsent, now: number): Promise<void> {
    const name = this.#keys.oauthConsent(pending.id);
    await this.#client.set(name, this.#secret.encrypt(PURPOSE, JSON.stringify(pending), name), 'PX', Math.max(1, Math.ceil(pending.expiresAt - now)));
  }

  async get(id: string, now: number): Promise<PendingConsent | undefined> {
    if (id.length > 64) return undefined;
    const name = this.#keys.oauthConsent(id);
    const sealed = await this.#client.get(name);
    if (sealed === null) return undefined;
    const parsed = openEncryptedJson(this.#secret, PURPOSE, name, sealed, recordSchema, this.#onReject);
    if (parsed === undefined) return undefined;
    if (parsed.id !== id || !(now < parsed.expiresAt)) return undefined;
    const { identity } = parsed;
    return { ...parsed, request: authorizationRequestOf(parsed.request), identity: identity === undefined ? undefined : { ...identity, email: identity.email } };
  }

  async delete(id: string): Promise<void> {
    await this.#client.del(this.#keys.oauthConsent(id));
  }
}

/** The consent form's CSRF tag made with the shared secret (any replica checks it; the previous secret is accepted during its rotation). */
export function sharedCsrfSigner(secret: SharedSecret): { sign(data: string): string; verify(data: string, tag: string): boolean } {
  // Domain-separated from the records tagged with the same purpose (those begin `mcp-warden record v1`).
  const data = (value: string): string => `mcp-warden consent csrf v1\n${value}`;
  return { sign: (value) => secret.sign('record', data(value)), verify: (value, tag) => secret.verify('record', data(value), tag) };
}
