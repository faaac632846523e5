/**
 * @module mcp/request-state
 * Seals and checks the `requestState` of multi round-trip requests (MCP 2026-07-28,
 * basic/patterns/mrtr). A tool that needs input returns `input_required` with a `requestState`;
 * the client echoes it on its retry, so it is attacker-controlled input: the spec requires its
 * integrity to be protected and failing state to be rejected, and recommends binding it to the
 * principal, a short expiry and the originating request. This codec does all of that with an
 * HMAC-SHA256 tag under the `state` key of {@link SharedSecret} (so replicas sharing the secret
 * accept each other's state, and a rotation keeps the previous secret's state valid).
 *
 * Wire format (opaque to clients; signed, not encrypted: never put secrets in the payload):
 * `v1.<base64url(JSON body)>.<key id>.<base64url HMAC over "v1.<body>">`, the body being
 * `{p: payload, x: expiry epoch ms, m: method, n: tool/prompt name or resource URI,
 * d: SHA-256 of the canonical JSON of the request's arguments (22 base64url chars),
 * s: HMAC tag of the principal (never its id), r: random nonce}`.
 *
 * Checks, in order: at most {@link MAX_REQUEST_STATE_LENGTH} characters, the tag, the expiry,
 * the principal, the method and name, the arguments digest. The first failure throws
 * `WARDEN_ERR_INVALID_REQUEST_STATE` whose `reason` names it (for the log only).
 *
 * Hand-written rather than the SDK's `createRequestStateCodec`: that one takes a single key (no
 * rotation overlap) and folds every binding into one opaque value, so the log cannot say which
 * check failed.
 */

import { createHash, randomBytes } from 'node:crypto';
import { WardenError } from '../errors.js';
import type { Principal } from '../security/identity.js';
import type { SharedSecret } from '../security/shared-secret.js';

/** Longest `requestState` accepted (and minted): 4 KiB. A valid state is ASCII, so characters are bytes. */
export const MAX_REQUEST_STATE_LENGTH = 4096;

const VERSION = 'v1';
/** 22 base64url characters = 132 bits of the SHA-256 of the arguments. */
const DIGEST_LENGTH = 22;

/** What a `requestState` is bound to: who asked, and which request. */
export interface RequestStateBinding {
  readonly principal: Pick<Principal, 'kind' | 'id'>;
  /** `tools/call`, `prompts/get` or `resources/read`. */
  readonly method: string;
  /** The tool or prompt name, or the resource URI. */
  readonly name: string;
  /** The request's `params.arguments` (none for `resources/read`; absent counts as `{}`). */
  readonly arguments: unknown;
}

/**
 * Why a `requestState` was refused: logged, never sent. `unbound` is the SDK seam's: the handler
 * context did not say which request or principal it belongs to (`mcp/request-state-hook`).
 */
export type RequestStateRefusal = 'oversized' | 'malformed' | 'tag' | 'expired' | 'principal' | 'method' | 'name' | 'arguments' | 'unbound';

export interface RequestStateCodecOptions {
  readonly secret: SharedSecret;
  /** Lifetime of a minted state, seconds. */
  readonly ttlSeconds: number;
  /** Clock (epoch ms); default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

interface Body {
  readonly p: unknown;
  readonly x: number;
  readonly m: string;
  readonly n: string;
  readonly d: string;
  readonly s: string;
  readonly r: string;
}

/** JSON with object keys sorted at every level: the same arguments always give the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    if (record[key] !== undefined) members.push(`${JSON.stringify(key)}:${canonicalJson(record[key])}`);
  }
  return `{${members.join(',')}}`;
}

function digestOf(args: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(args ?? {}), 'utf8')
    .digest('base64url')
    .slice(0, DIGEST_LENGTH);
}

/** What the principal tag is made over: kind and id, unambiguously (an id may hold any character). */
function principalData(principal: Pick<Principal, 'kind' | 'id'>): string {
  return `principal:${JSON.stringify([principal.kind, principal.id])}`;
}

function isBody(value: unknown): value is Body {
  if (typeof value !== 'object' || value === null) return false;
  const body = value as Record<string, unknown>;
  return (
    'p' in body &&
    typeof body['x'] === 'number' &&
    typeof body['m'] === 'string' &&
    typeof body['n'] === 'string' &&
    typeof body['d'] === 'string' &&
    typeof body['s'] === 'string' &&
    typeof body['r'] === 'string'
  );
}

/** Throws the refusal the SDK turns into its frozen -32602 "Invalid or expired requestState". */
export function refuse(reason: RequestStateRefusal): never {
  throw new WardenError('WARDEN_ERR_INVALID_REQUEST_STATE', { reason, message: `requestState refused: ${reason}` });
}

/**
 * Mints and verifies `requestState` strings bound to a principal and a request.
 *
 * @example
 * const codec = new RequestStateCodec({ secret: new SharedSecret({ current: secretText }), ttlSeconds: 600 });
 * const binding = { principal, method: 'tools/call', name: 'confirm_action', arguments: { action: 'delete', target: 'x' } };
 * const state = codec.mint({ step: 1 }, binding);
 * codec.verify(state, binding); // { step: 1 }; throws WARDEN_ERR_INVALID_REQUEST_STATE for any other binding
 */
export class RequestStateCodec {
  readonly #secret: SharedSecret;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: RequestStateCodecOptions) {
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1) throw new RangeError('ttlSeconds must be a positive integer');
    this.#secret = options.secret;
    this.#ttlMs = options.ttlSeconds * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Seals `payload` (JSON-serialisable) for the request `binding` describes; throws RangeError past 4 KiB. */
  mint(payload: unknown, binding: RequestStateBinding): string {
    const body: Body = {
      p: payload,
      x: this.#now() + this.#ttlMs,
      m: binding.method,
      n: binding.name,
      d: digestOf(binding.arguments),
      s: this.#secret.sign('state', principalData(binding.principal)),
      r: randomBytes(12).toString('base64url'),
    };
    const signed = `${VERSION}.${Buffer.from(JSON.stringify(body), 'utf8').toString('base64url')}`;
    const state = `${signed}.${this.#secret.sign('state', signed)}`;
    if (state.length > MAX_REQUEST_STATE_LENGTH) throw new RangeError(`requestState would be ${state.length} characters; at most ${MAX_REQUEST_STATE_LENGTH}`);
    return state;
  }

  /** The payload of `state` when every check passes for `binding`; throws `WARDEN_ERR_INVALID_REQUEST_STATE` otherwise. */
  verify(state: unknown, binding: RequestStateBinding): unknown {
    if (typeof state !== 'string') refuse('malformed');
    if (state.length > MAX_REQUEST_STATE_LENGTH) refuse('oversized');
    const parts = state.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) refuse('malformed');
    const [version, encoded, keyId, mac] = parts as [string, string, string, string];
    const signed = `${version}.${encoded}`;
    if (!this.#secret.verify('state', signed, `${keyId}.${mac}`)) refuse('tag');
    // Only authenticated text is parsed from here on.
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    } catch {
      refuse('malformed');
    }
    if (!isBody(body)) refuse('malformed');
    if (this.#now() >= body.x) refuse('expired');
    if (!this.#secret.verify('state', principalData(binding.principal), body.s)) refuse('principal');
    if (body.m !== binding.method) refuse('method');
    if (body.n !== binding.name) refuse('name');
    if (body.d !== digestOf(binding.arguments)) refuse('arguments');
    return body.p;
  }
}
