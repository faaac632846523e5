/**
 * @module security/oauth/upstream-oidc
 * Upstream OpenID Connect sign-in for mcp-warden's own authorization server: instead of asking
 * for an API key, /oauth/authorize sends the browser to the team's identity provider, where
 * mcp-warden is the one registered (confidential) client, so providers without dynamic
 * registration work. Discovery (OpenID Connect Discovery 1.0 §4), the authorization code flow
 * with PKCE S256, `state` bound to the pending MCP authorization and to the browser (cookie),
 * `nonce`, and ID token validation with jose (OIDC Core §3.1.3.7: signature by the provider's
 * JWKS, iss, aud, exp, nonce). The identity (subject, email domain, groups claim) is mapped to
 * scopes by configured rules; no matching rule means access_denied. The callback's `iss` is held
 * to the configured issuer (RFC 9207 mix-up defence). An email matches a domain rule only when
 * verified (`email_verified: true`, or absent where a rule allows it).
 *
 * Pending sign-ins (state, nonce, PKCE verifier, browser binding) wait in a
 * {@link PendingSignInStore}, in Redis when replicas share state, so the callback may land on any replica.
 *
 * Hand-written rather than openid-client: the relying-party part needed is one redirect and one
 * code exchange, and jose (already a dependency) does the security-critical token validation.
 */

import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { AuthorizationRequest } from './authorization-server.js';
import { OAuthError } from './grants.js';
import type { PendingSignIn, PendingSignInStore } from './pending-sign-ins.js';

/** One mapping rule: every given condition must hold; the rule then grants its scopes. */
export interface ScopeRule {
  readonly subject?: string;
  readonly emailDomain?: string;
  readonly group?: string;
  /**
   * With `emailDomain`: also accept an email whose `email_verified` claim is absent (providers
   * that never send it, such as Microsoft Entra ID). Off by default: only `email_verified: true`
   * matches a domain rule; `false` never does.
   */
  readonly allowMissingEmailVerified?: boolean;
  readonly scopes: readonly string[];
}

export interface UpstreamOidcOptions {
  /** The provider's issuer identifier (discovery is `<issuer>/.well-known/openid-configuration`). */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Our callback, `<our issuer>/oauth/callback`, registered at the provider. */
  readonly redirectUri: string;
  /** Scopes asked of the provider (default `openid email`). */
  readonly scopes: readonly string[];
  readonly rules: readonly ScopeRule[];
  /** The ID token claim listing groups (default `groups`). */
  readonly groupsClaim: string;
  readonly now?: () => number;
  /** Where sign-ins wait for the callback (shared by the replicas with Redis). */
  readonly pending: PendingSignInStore;
  /** How long a sign-in may take, ms (default 10 min). */
  readonly ttlMs?: number;
}

interface Discovery {
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  /** RFC 9207 `authorization_response_iss_parameter_supported`: the provider names itself in every response. */
  readonly issParameterSupported: boolean;
}

/** The identity the provider vouched for, and the scopes the rules give it. */
export interface UpstreamIdentity {
  readonly subject: string;
  readonly email: string | undefined;
  readonly scopes: readonly string[];
}

// Asymmetric only: an HMAC-signed ID token would be verified with the client secret (OIDC Core §10.1), which we refuse.
const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const FETCH_TIMEOUT_MS = 5_000;
const MAX_BODY = 256 * 1024;

function isLoopbackHostname(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

const digest = (value: string): string => createHash('sha256').update(value).digest('base64url');

/** Reads at most MAX_BODY bytes of a response (a provider, or whatever answers at its address, cannot fill our memory). */
async function boundedText(response: Response): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  for (;;) {
    const chunk = reader === undefined ? { done: true as const, value: undefined } : await reader.read();
    if (chunk.done) break;
    size += chunk.value.byteLength;
    if (size > MAX_BODY) {
      await reader?.cancel();
      throw new Error('response too large');
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function fetchJson(url: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  const body = JSON.parse(await boundedText(response)) as unknown;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not a JSON object');
  if (!response.ok) throw Object.assign(new Error(`status ${response.status}`), { body });
  return body as Record<string, unknown>;
}

/** Scopes of every rule the identity matches (deduplicated, in rule order); empty when none matches. */
export function scopesForIdentity(rules: readonly ScopeRule[], claims: JWTPayload, groupsClaim: string): string[] {
  const email = typeof claims['email'] === 'string' ? claims['email'].toLowerCase() : undefined;
  const verified = claims['email_verified'];
  const rawGroups = claims[groupsClaim];
  const groups = Array.isArray(rawGroups) ? rawGroups.filter((group): group is string => typeof group === 'string') : [];
  const scopes = new Set<string>();
  for (const rule of rules) {
    if (rule.subject !== undefined && rule.subject !== claims.sub) continue;
    if (rule.emailDomain !== undefined) {
      // Only a verified email matches a domain rule: true, or absent where the rule says the provider never sends the claim.
      const trusted = verified === true || (verified === undefined && rule.allowMissingEmailVerified === true);
      if (email === undefined || !trusted || !email.endsWith(`@${rule.emailDomain.toLowerCase()}`)) continue;
    }
    if (rule.group !== undefined && !groups.includes(rule.group)) continue;
    for (const scope of rule.scopes) scopes.add(scope);
  }
  return [...scopes];
}

/** The relying-party half: builds the redirect to the provider and checks what comes back. */
export class UpstreamOidc {
  readonly #options: UpstreamOidcOptions;
  readonly #now: () => number;
  #discovery: Promise<Discovery> | undefined;

  constructor(options: UpstreamOidcOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Discovery, fetched once (again after a failure); the document must name the configured issuer (OIDC Discovery §4.3). */
  #discover(): Promise<Discovery> {
    this.#discovery ??= (async () => {
      const document = await fetchJson(`${this.#options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
      if (document['issuer'] !== this.#options.issuer) throw new Error('discovery issuer mismatch');
      const endpoint = (name: string): string => {
        const value = document[name];
        if (typeof value !== 'string') throw new Error(`discovery lacks ${name}`);
        const url = new URL(value);
        // The endpoints are held to the issuer's own rule: https, plain http only on loopback.
        if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHostname(url.hostname))) throw new Error(`discovery ${name} is not https`);
        return url.href;
      };
      return {
        authorizationEndpoint: endpoint('authorization_endpoint'),
        tokenEndpoint: endpoint('token_endpoint'),
        jwks: createRemoteJWKSet(new URL(endpoint('jwks_uri')), { timeoutDuration: FETCH_TIMEOUT_MS }),
        issParameterSupported: document['authorization_response_iss_parameter_supported'] === true,
      };
    })().catch((error: unknown) => {
      this.#discovery = undefined;
      throw error;
    });
    return this.#discovery;
  }

  /**
   * Starts a sign-in for a checked MCP authorization request: returns the provider URL to
   * redirect to and the browser binding to set as a cookie.
   */
  async start(request: AuthorizationRequest): Promise<{ readonly url: string; readonly browser: string }> {
    const { authorizationEndpoint } = await this.#discover();
    const now = this.#now();
    const state = randomBytes(24).toString('base64url');
    const nonce = randomBytes(24).toString('base64url');
    const verifier = randomBytes(32).toString('base64url');
    const browser = randomBytes(24).toString('base64url');
    await this.#options.pending.put(digest(state), { request, nonce, verifier, browser: digest(browser), expiresAt: now + (this.#options.ttlMs ?? 600_000) }, now);
    const url = new URL(authorizationEndpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.#options.clientId);
    url.searchParams.set('redirect_uri', this.#options.redirectUri);
    url.searchParams.set('scope', this.#options.scopes.join(' '));
    url.searchParams.set('state', state);
    url.searchParams.set('nonce', nonce);
    url.searchParams.set('code_challenge', createHash('sha256').update(verifier).digest('base64url'));
    url.searchParams.set('code_challenge_method', 'S256');
    return { url: url.href, browser };
  }

  /**
   * Takes the pending sign-in a callback's `state` names (single use, on whichever replica
   * started it), if this browser started it; undefined otherwise.
   */
  async take(state: string | undefined, browser: string | undefined): Promise<PendingSignIn | undefined> {
    // A callback from another browser (login CSRF, a leaked URL) neither completes nor spends it.
    if (state === undefined || state.length > 100 || browser === undefined || browser.length > 100) return undefined;
    return this.#options.pending.take(digest(state), digest(browser), this.#now());
  }

  /**
   * RFC 9207 §2.4: the callback's `iss` must be the configured issuer when present, and must be
   * present when the provider's discovery says it sends one; otherwise the response may come from
   * another provider (mix-up). Returns the refusal (access_denied, `upstream_iss_mismatch`), or undefined.
   */
  async checkIssuer(iss: string | undefined): Promise<OAuthError | undefined> {
    const { issParameterSupported } = await this.#discover();
    if (iss === undefined ? !issParameterSupported : iss === this.#options.issuer) return undefined;
    return new OAuthError('access_denied', 'The sign-in response did not come from the expected identity provider', 'upstream_iss_mismatch');
  }

  /**
   * Redeems the provider's code (RFC 6749 §4.1.3 with PKCE, client_secret_basic) and validates the
   * ID token (OIDC Core §3.1.3.7); returns the identity and its scopes. Throws {@link OAuthError}
   * (access_denied) when the token is refused or no rule matches; the reason says which.
   */
  async finish(pending: PendingSignIn, code: string): Promise<UpstreamIdentity> {
    const { tokenEndpoint, jwks } = await this.#discover();
    const credentials = Buffer.from(`${encodeURIComponent(this.#options.clientId)}:${encodeURIComponent(this.#options.clientSecret)}`).toString('base64');
    let body: Record<string, unknown>;
    try {
      body = await fetchJson(tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${credentials}`, accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: this.#options.redirectUri, code_verifier: pending.verifier }).toString(),
      });
    } catch {
      throw new OAuthError('access_denied', 'The identity provider did not accept the sign-in', 'upstream_code_refused');
    }
    const idToken = body['id_token'];
    if (typeof idToken !== 'string') throw new OAuthError('access_denied', 'The identity provider returned no ID token', 'upstream_no_id_token');
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(idToken, jwks, {
        issuer: this.#options.issuer,
        audience: this.#options.clientId,
        algorithms: ID_TOKEN_ALGORITHMS,
        requiredClaims: ['sub', 'exp', 'iat'],
        currentDate: new Date(this.#now()),
        clockTolerance: 60,
      }));
    } catch {
      throw new OAuthError('access_denied', 'The identity provider\'s ID token was not valid', 'upstream_id_token_invalid');
    }
    // OIDC Core §3.1.3.7 (11): the nonce we sent, so a token from another sign-in cannot be replayed here.
    if (claims['nonce'] !== pending.nonce) throw new OAuthError('access_denied', 'The identity provider\'s ID token was not valid', 'upstream_nonce_mismatch');
    // §3.1.3.7 (3)-(5): several audiences need azp naming us.
    if (Array.isArray(claims.aud) && claims.aud.length > 1 && claims['azp'] !== this.#options.clientId) {
      throw new OAuthError('access_denied', 'The identity provider\'s ID token was not valid', 'upstream_azp');
    }
    const scopes = scopesForIdentity(this.#options.rules, claims, this.#options.groupsClaim);
    if (scopes.length === 0) throw new OAuthError('access_denied', 'This account is not allowed to use this server', 'upstream_no_rule');
    return { subject: claims.sub as string, email: typeof claims['email'] === 'string' ? claims['email'] : undefined, scopes };
  }
}
