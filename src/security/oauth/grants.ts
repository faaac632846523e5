/**
 * @module security/oauth/grants
 * Small pure pieces of the authorization server: the OAuth error value, random secrets and
 * their digests, the PKCE S256 check (RFC 7636 §4.6), and the scopes an API key can grant.
 */

import { createHash, randomBytes } from 'node:crypto';
import { OAUTH_ERRORS, type OAuthErrorCode } from '../../wire-codes.js';
import { sameBytes } from '../constant-time.js';
import type { Principal } from '../identity.js';

/**
 * A refusal in OAuth's words: the RFC code and a fixed description written by our code (never
 * client input). `reason` is the tagged internal reason for the log.
 */
export class OAuthError extends Error {
  readonly error: OAuthErrorCode;
  readonly status: number;
  readonly reason: string;
  constructor(error: OAuthErrorCode, description: string, reason: string = error) {
    super(description);
    this.error = error;
    this.status = OAUTH_ERRORS[error];
    this.reason = reason;
  }
  /** The JSON body (RFC 6749 §5.2). */
  body(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.message };
  }
}

/**
 * Prefix of the principal id (`sub`) of grants made through the upstream identity provider
 * (`oidc:<subject>`). API key ids cannot contain `:` (security/keys-file), so the two never meet.
 */
export const UPSTREAM_SUBJECT_PREFIX = 'oidc:';

/** True for a principal id signed in through the upstream identity provider, not by an API key. */
export function isUpstream(id: string): boolean {
  return id.startsWith(UPSTREAM_SUBJECT_PREFIX);
}

/** A fresh secret: `prefix` + 32 random bytes, base64url. */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** The digest a secret is stored under (SHA-256, base64url). */
export function digestOf(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

// code_verifier = 43*128unreserved (RFC 7636 §4.1); code_challenge is its base64url SHA-256: 43 characters.
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** True when `challenge` has the shape of an S256 code challenge. */
export function isS256Challenge(challenge: string): boolean {
  return CHALLENGE.test(challenge);
}

/** RFC 7636 §4.6: BASE64URL(SHA256(verifier)) equals the challenge; compared in constant time. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier) || !CHALLENGE.test(challenge)) return false;
  return sameBytes(createHash('sha256').update(verifier).digest(), Buffer.from(challenge, 'base64url'));
}

/** Every scope a key grants: its tools (all or named) and the operator role. */
export function scopesOfKey(principal: Principal, prefix: string): string[] {
  const tools = principal.tools === undefined ? [`${prefix}tools`] : [...principal.tools].map((name) => `${prefix}tools:${name}`);
  return principal.operator === true ? [...tools, `${prefix}operator`] : tools;
}

/**
 * The scopes to grant: those requested that the key allows (`<prefix>tools` is narrowed to the
 * key's tools when the key has a list); no request means everything the key allows. Never more
 * than the key (a token can only narrow what signed it in).
 */
export function grantedScopes(requested: readonly string[] | undefined, principal: Principal, prefix: string): string[] {
  return grantedFrom(requested, scopesOfKey(principal, prefix), prefix);
}

/** The scopes to grant out of `allowed` (a key's, or what upstream sign-in rules gave): as {@link grantedScopes}. */
export function grantedFrom(requested: readonly string[] | undefined, allowed: readonly string[], prefix: string): string[] {
  if (requested === undefined) return [...allowed];
  const granted = new Set<string>();
  for (const scope of requested) {
    if (allowed.includes(scope)) granted.add(scope);
    else if (scope === `${prefix}tools`) for (const tool of allowed.filter((item) => item.startsWith(`${prefix}tools:`))) granted.add(tool);
    else if (scope.startsWith(`${prefix}tools:`) && allowed.includes(`${prefix}tools`)) granted.add(scope);
  }
  return [...granted];
}
