/**
 * @module security/jwt
 * OAuth 2.1 resource-server mode (MCP Authorization, 2025-06-18 and later): bearer JWTs are
 * verified with `jose` against the authorization server's JWKS (cached; fetched again when a
 * token names an unknown `kid`): signature, `iss`, `aud` (must be this server, RFC 8707),
 * `exp`/`nbf` with a small leeway. Only the configured asymmetric algorithms are accepted, so
 * `alg: none` and HMAC-with-a-public-key tokens are refused (RFC 8725 §2.1, §3.1).
 *
 * Scopes map to tools: `<prefix>tools` grants every tool, `<prefix>tools:<name>` one tool;
 * `<prefix>operator` grants the operator role (operator data: status, metrics, console). A token
 * with no scope may authenticate but use nothing.
 */

import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Principal } from './identity.js';
import { looksLikeJwt } from './jwt-shape.js';

export interface JwtVerifierOptions {
  /** The authorization server's JWKS; or `keys` when the keys are at hand (our own issuer). */
  readonly jwksUrl?: string | undefined;
  /** Keys to verify with instead of fetching `jwksUrl` (`--oauth-issuer`: mcp-warden's own). */
  readonly keys?: JWTVerifyGetKey | undefined;
  /**
   * A last check after signature and claims, for tokens this server issued itself: the principal
   * to use (with the signing-in key's limits), or undefined to refuse (`jwt_revoked`).
   */
  readonly bind?: ((payload: JWTPayload, principal: Principal) => Promise<Principal | undefined>) | undefined;
  /** The `typ` header tokens must carry (our own issuer: `at+jwt`, RFC 9068 §2.1); undefined: any. */
  readonly typ?: string | undefined;
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly string[];
  readonly scopePrefix: string;
  /** Leeway for exp/nbf, seconds (default 30). */
  readonly clockToleranceSeconds?: number;
  /** Minimum time between JWKS fetches triggered by unknown kids, ms (default 30 s). */
  readonly cooldownMs?: number;
  /** JWKS request timeout, ms (default 5 s). */
  readonly timeoutMs?: number;
  /** Clock for `exp`/`nbf` (default `Date.now`). */
  readonly now?: () => number;
}

/** Why a token was refused (logs and audit only; the client sees `invalid_token`). */
export type JwtRefusal =
  | 'jwt_malformed'
  | 'jwt_bad_algorithm'
  | 'jwt_unknown_key'
  | 'jwt_bad_signature'
  | 'jwt_expired'
  | 'jwt_not_yet_valid'
  | 'jwt_bad_issuer'
  | 'jwt_bad_audience'
  | 'jwt_bad_type'
  | 'jwt_no_subject'
  | 'jwt_revoked'
  | 'jwks_unavailable';

export type JwtVerdict = { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly reason: JwtRefusal };

export { looksLikeJwt } from './jwt-shape.js';

/** Scopes of a token: the `scope` string (RFC 8693 §4.2) or a `scp` array. */
export function scopesOf(payload: JWTPayload): string[] {
  const scope = payload['scope'];
  if (typeof scope === 'string') return scope.split(' ').filter((item) => item.length > 0);
  const scp = payload['scp'];
  if (Array.isArray(scp)) return scp.filter((item): item is string => typeof item === 'string');
  return [];
}

/** Tools granted by scopes: undefined for all, else the named ones (possibly none). */
export function toolsOfScopes(scopes: readonly string[], prefix: string): ReadonlySet<string> | undefined {
  const all = `${prefix}tools`;
  const one = `${prefix}tools:`;
  const tools = new Set<string>();
  for (const scope of scopes) {
    if (scope === all) return undefined;
    if (scope.startsWith(one) && scope.length > one.length) tools.add(scope.slice(one.length));
  }
  return tools;
}

/** True when the scopes grant the operator role (`<prefix>operator`). */
export function isOperatorScope(scopes: readonly string[], prefix: string): boolean {
  return scopes.includes(`${prefix}operator`);
}

function refusalOf(error: unknown): JwtRefusal {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'jwt_expired';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'jwt_bad_algorithm';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'jwt_unknown_key';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'jwt_bad_signature';
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      return 'jwks_unavailable';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = (error as { claim?: unknown }).claim;
      if (claim === 'iss') return 'jwt_bad_issuer';
      if (claim === 'aud') return 'jwt_bad_audience';
      if (claim === 'typ') return 'jwt_bad_type';
      if (claim === 'nbf') return 'jwt_not_yet_valid';
      if (claim === 'sub') return 'jwt_no_subject';
      return 'jwt_malformed';
    }
    default:
      // A JWKS that cannot be fetched surfaces as a plain Error from fetch.
      return code === undefined ? 'jwks_unavailable' : 'jwt_malformed';
  }
}

export class JwtVerifier {
  readonly #jwks: JWTVerifyGetKey;
  readonly #options: JwtVerifierOptions;
  readonly #algorithms: string[];

  constructor(options: JwtVerifierOptions) {
    this.#options = options;
    this.#algorithms = [...options.algorithms];
    if (options.keys !== undefined) this.#jwks = options.keys;
    else if (options.jwksUrl !== undefined) {
      this.#jwks = createRemoteJWKSet(new URL(options.jwksUrl), {
        cooldownDuration: options.cooldownMs ?? 30_000,
        timeoutDuration: options.timeoutMs ?? 5_000,
        cacheMaxAge: 10 * 60_000,
      });
    } else throw new Error('JwtVerifier needs jwksUrl or keys');
  }

  /** Scopes this server understands, for the protected resource metadata. */
  scopesSupported(toolNames: readonly string[]): string[] {
    const prefix = this.#options.scopePrefix;
    return [`${prefix}tools`, ...toolNames.map((name) => `${prefix}tools:${name}`), `${prefix}operator`];
  }

  async verify(token: string): Promise<JwtVerdict> {
    if (!looksLikeJwt(token)) return { ok: false, reason: 'jwt_malformed' };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#jwks, {
        issuer: this.#options.issuer,
        audience: this.#options.audience,
        algorithms: this.#algorithms,
        clockTolerance: this.#options.clockToleranceSeconds ?? 30,
        currentDate: this.#options.now === undefined ? undefined : new Date(this.#options.now()),
        requiredClaims: ['sub', 'exp'],
        ...(this.#options.typ === undefined ? {} : { typ: this.#options.typ }),
      }));
    } catch (error) {
      return { ok: false, reason: refusalOf(error) };
    }
    const subject = payload.sub;
    if (typeof subject !== 'string' || subject.length === 0 || subject.length > 256) return { ok: false, reason: 'jwt_no_subject' };
    const scopes = scopesOf(payload);
    const client = payload['client_id'] ?? payload['azp'];
    const principal: Principal = Object.freeze({
      kind: 'jwt',
      id: `sub:${subject}`,
      name: typeof client === 'string' ? client.slice(0, 128) : undefined,
      scopes,
      tools: toolsOfScopes(scopes, this.#options.scopePrefix),
      // Refused from then on (the same leeway as above), so its sessions end then too.
      expiresAt: ((payload.exp as number) + (this.#options.clockToleranceSeconds ?? 30)) * 1000,
      operator: isOperatorScope(scopes, this.#options.scopePrefix),
    });
    if (this.#options.bind === undefined) return { ok: true, principal };
    const bound = await this.#options.bind(payload, principal);
    return bound === undefined ? { ok: false, reason: 'jwt_revoked' } : { ok: true, principal: bound };
  }
}
