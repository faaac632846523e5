/**
 * @module security/shared-secret
 * The secret the replicas share and Redis does not hold: it signs every message on the bus and
 * every record at rest that grants or binds anything, so whoever can write to Redis can deny
 * service but cannot speak for a replica; and it seals the `requestState` of multi round-trip
 * requests (`mcp/request-state`), which clients hold between two requests. HMAC-SHA256 with a
 * per-purpose key derived by HKDF (RFC 5869), so a tag made for one purpose (bus, record, state)
 * can never be replayed as a tag for another.
 *
 * Rotation: replicas sign with the current secret and accept tags made with the current or the
 * previous one; each tag names its key by a short id (a hash of the derived key, not the secret).
 */

import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { sameBytes } from './constant-time.js';

/** What a tag authenticates: messages on the bus, records stored in Redis, or request state held by clients. */
export type SecretPurpose = 'bus' | 'record' | 'state';

/** What is encrypted with a key derived from the shared secret (AES-256-GCM). */
export type SealPurpose = 'oauth signing key v1' | 'oauth upstream sign-in v1' | 'oauth consent v1';

interface DerivedKey {
  readonly id: string;
  readonly keys: Readonly<Record<SecretPurpose, Buffer>>;
  readonly sealKey: (purpose: SealPurpose) => Buffer;
}

function derive(secret: string): DerivedKey {
  const ikm = Buffer.from(secret, 'utf8');
  const key = (info: string): Buffer => Buffer.from(hkdfSync('sha256', ikm, 'mcp-warden shared secret', info, 32));
  const keys = { bus: key('bus v1'), record: key('record v1'), state: key('request state v1') };
  // The id only tells replicas which key made a tag; derived one-way from a derived key.
  const id = createHash('sha256').update(key('key id v1')).digest('base64url').slice(0, 8);
  return { id, keys, sealKey: (purpose) => key(purpose) };
}

/**
 * Signs and verifies with the shared secret (and, during a rotation, the previous one).
 *
 * @example
 * const secret = new SharedSecret({ current: config.redis.sharedSecret, previous: config.redis.sharedSecretPrevious });
 * const tag = secret.sign('record', `mcpw:ban:203.0.113.7\n1767225600000`);
 * secret.verify('record', `mcpw:ban:203.0.113.7\n1767225600000`, tag); // true
 */
export class SharedSecret {
  readonly #current: DerivedKey;
  readonly #accepted: ReadonlyMap<string, DerivedKey>;

  constructor(options: { current: string; previous?: string | undefined }) {
    this.#current = derive(options.current);
    const accepted = new Map<string, DerivedKey>([[this.#current.id, this.#current]]);
    if (options.previous !== undefined && options.previous !== options.current) {
      const previous = derive(options.previous);
      accepted.set(previous.id, previous);
    }
    this.#accepted = accepted;
  }

  /** Id of the key this replica signs with. */
  get keyId(): string {
    return this.#current.id;
  }

  /** A tag `<key id>.<base64url HMAC>` over `data` (no spaces or newlines in it). */
  sign(purpose: SecretPurpose, data: string): string {
    return `${this.#current.id}.${this.#mac(this.#current, purpose, data).toString('base64url')}`;
  }

  /** Whether `tag` was made over `data` with the current or the previous secret; constant time. */
  verify(purpose: SecretPurpose, data: string, tag: string): boolean {
    const dot = tag.indexOf('.');
    if (dot <= 0 || tag.length > 128) return false;
    const key = this.#accepted.get(tag.slice(0, dot));
    if (key === undefined) return false;
    const given = Buffer.from(tag.slice(dot + 1), 'base64url');
    const expected = this.#mac(key, purpose, data);
    return sameBytes(given, expected);
  }

  /**
   * Encrypts `plaintext` with AES-256-GCM under a key derived (HKDF) for `purpose`, authenticating
   * `aad` too (say the Redis key name, so a sealed value cannot be moved). Returns
   * `<key id>.<iv>.<ciphertext>.<tag>` (base64url): for secrets at rest in Redis (private keys).
   */
  encrypt(purpose: SealPurpose, plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#current.sealKey(purpose), iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [this.#current.id, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** The plaintext of {@link encrypt}'s output (current or previous secret); undefined when forged, moved or damaged. */
  decrypt(purpose: SealPurpose, sealed: string, aad: string): string | undefined {
    const [id, iv, body, tag, extra] = sealed.split('.');
    const key = id === undefined ? undefined : this.#accepted.get(id);
    if (key === undefined || iv === undefined || body === undefined || tag === undefined || extra !== undefined) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.sealKey(purpose), Buffer.from(iv, 'base64url'), { authTagLength: 16 });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  #mac(key: DerivedKey, purpose: SecretPurpose, data: string): Buffer {
    return createHmac('sha256', key.keys[purpose]).update(data, 'utf8').digest();
  }
}
