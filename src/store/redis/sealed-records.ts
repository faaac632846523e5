/**
 * @module store/redis/sealed-records
 * Integrity for the records in Redis that grant or bind anything (session ownership and
 * metadata, key restrictions, bans, stored SSE events): each carries an HMAC-SHA256 tag made
 * with the shared secret over its content and the name of the Redis key it lives under, so a
 * Redis writer can neither forge a record nor move a genuine one to another key. A record that
 * fails its check is ignored and reported (`mcp_warden_redis_records_rejected_total`): a session
 * whose owner cannot be verified does not exist, an unverifiable ban or restriction is not
 * applied (a forged ban would deny service; a restriction can only tighten anyway).
 */

import { z } from 'zod';
import type { SealPurpose, SharedSecret } from '../../security/shared-secret.js';
import type { KeyRestriction } from '../types.js';

/** Which kind of record failed its check (the label of the rejection counter). */
export type RecordKind = 'session' | 'restriction' | 'ban' | 'event' | 'oauth';

/**
 * Seals string payloads as `<tag> <payload>` and opens them, bound to a Redis key name.
 *
 * @example
 * const seal = new RecordSeal(secret, (kind) => metrics.recordRejected(kind));
 * await client.set(key, seal.seal(key, String(until)));
 * const until = seal.open('ban', key, await client.get(key)); // undefined when forged or moved
 */
export class RecordSeal {
  readonly #secret: SharedSecret;
  readonly #onReject: (kind: RecordKind) => void;

  constructor(secret: SharedSecret, onReject: (kind: RecordKind) => void = () => undefined) {
    this.#secret = secret;
    this.#onReject = onReject;
  }

  /** A tag over `payload` as stored under `key`. */
  tag(key: string, payload: string): string {
    return this.#secret.sign('record', this.#data(key, payload));
  }

  /** Whether `tag` is a valid tag over `payload` under `key`; counts a failure as `kind`. */
  check(kind: RecordKind, key: string, payload: string, tag: string | undefined): boolean {
    if (tag !== undefined && this.#secret.verify('record', this.#data(key, payload), tag)) return true;
    this.#onReject(kind);
    return false;
  }

  /** `<tag> <payload>`, to store under `key`. */
  seal(key: string, payload: string): string {
    return `${this.tag(key, payload)} ${payload}`;
  }

  /** The payload of a sealed value stored under `key`; undefined (and counted) when it fails. */
  open(kind: RecordKind, key: string, sealed: string | null | undefined): string | undefined {
    if (sealed === null || sealed === undefined) return undefined;
    const space = sealed.indexOf(' ');
    const payload = space === -1 ? '' : sealed.slice(space + 1);
    return this.check(kind, key, payload, space === -1 ? undefined : sealed.slice(0, space)) ? payload : undefined;
  }

  #data(key: string, payload: string): string {
    return `mcp-warden record v1\n${key}\n${payload}`;
  }
}

/** The stored value of a ban (its end, epoch ms) under `key`. */
export function sealBan(seal: RecordSeal, key: string, until: number): string {
  return seal.seal(key, String(until));
}

/** A ban's end from its stored value; undefined when it fails its check or is not a time. */
export function openBan(seal: RecordSeal, key: string, stored: string | null | undefined): number | undefined {
  const payload = seal.open('ban', key, stored);
  if (payload === undefined || !/^\d{1,16}$/.test(payload)) return undefined;
  return Number(payload);
}

const restrictionSchema = z.strictObject({
  id: z.string().min(1).max(256),
  disabled: z.boolean(),
  expiresAt: z.number().refine(Number.isFinite).optional(),
});

/** The hash field's sealed value of one restriction in the restrictions hash `key`. */
export function sealRestriction(seal: RecordSeal, key: string, restriction: KeyRestriction): string {
  return seal.seal(`${key}#${restriction.id}`, JSON.stringify(restriction));
}

/** The restrictions of a stored hash whose values verify and parse; the rest are dropped. */
export function openRestrictions(seal: RecordSeal, key: string, stored: Readonly<Record<string, string>>): KeyRestriction[] {
  const restrictions: KeyRestriction[] = [];
  for (const [field, value] of Object.entries(stored)) {
    const payload = seal.open('restriction', `${key}#${field}`, value);
    if (payload === undefined) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      continue;
    }
    const result = restrictionSchema.safeParse(parsed);
    if (result.success && result.data.id === field) restrictions.push(result.data);
  }
  return restrictions;
}

/**
 * A JSON record encrypted with {@link SharedSecret.encrypt} under `purpose`, with the Redis key
 * name as associated data, opened and checked against `schema`. Undefined when it does not
 * decrypt (forged, moved to another key, sealed with another secret: `onReject` is called) or
 * does not match the schema.
 *
 * @example
 * const record = openEncryptedJson(secret, 'oauth consent v1', name, await client.get(name) ?? '', recordSchema, onReject);
 */
export function openEncryptedJson<S extends z.ZodType>(secret: SharedSecret, purpose: SealPurpose, name: string, sealed: string, schema: S, onReject: () => void): z.output<S> | undefined {
  const plain = secret.decrypt(purpose, sealed, name);
  if (plain === undefined) {
    onReject();
    return undefined;
  }
  try {
    const result = schema.safeParse(JSON.parse(plain));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}
