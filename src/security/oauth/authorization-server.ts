/**
 * @module security/oauth/authorization-server
 * mcp-warden as the OAuth 2.1 authorization server for its own `/mcp` (`--oauth-issuer`), with
 * no HTTP in it (the routes are http/routes/oauth-server): RFC 8414 metadata, RFC 7591 dynamic
 * registration of public clients, Client ID Metadata Documents (https URL client ids, resolved
 * by security/oauth/client-documents), the authorization code grant with PKCE S256 only, RFC 8707
 * resource indicators (the one resource is this server's `/mcp`, bound into `aud`), refresh
 * tokens rotated on every use with reuse detection (a reused token revokes its whole family,
 * RFC 9700 §4.14.2), and RFC 7009 revocation.
 *
 * Who signs in is an API key (key sign-in): the tokens carry that key's scopes, name the key as
 * `sub`, and stop working when the key is revoked or expires (the authenticator asks the key
 * ring on every request). The user may type a one-time sign-in code an operator made for a key
 * instead of the key itself: the grant is then exactly that key's. Or a user of the upstream OpenID Connect provider (upstream-oidc):
 * the tokens carry the scopes the rules gave, name `oidc:<subject>`, and their grant ends after
 * `upstreamGrant` seconds. Access tokens are ES256 JWTs that the existing resource-server path
 * (security/jwt) verifies against our own JWKS; refresh tokens and codes are opaque and stored
 * as digests. Every expiry reads the injected clock.
 */

import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { KeyRing } from '../api-keys.js';
import type { Principal } from '../identity.js';
import { isOperatorScope, scopesOf, toolsOfScopes } from '../jwt.js';
import type { ClientDocuments } from './client-documents.js';
import { displayableClientName } from './client-name.js';
import { digestOf, grantedFrom, grantedScopes, isS256Challenge, isUpstream, newSecret, OAuthError, pkceMatches, UPSTREAM_SUBJECT_PREFIX } from './grants.js';
import { redirectUriMatches, redirectUriProblem } from './redirect-uris.js';
import { newSignInCode, signInCodeDigest } from './sign-in-codes.js';
import { SIGNING_ALGORITHM, type SigningKeys } from './signing-keys.js';
import type { ClientRecord, OAuthStore } from './store.js';

/** Lifetimes, seconds. */
export interface OAuthLifetimes {
  readonly accessToken: number;
  readonly refreshToken: number;
  readonly code: number;
  /** A registered client unused for this long is dropped. */
  readonly unusedClient: number;
  /**
   * A sign-in at the upstream identity provider lasts at most this long, refreshes included:
   * then the user signs in there again, so a user removed at the provider, or from the rules,
   * loses access within it (no API key stands behind such a grant to revoke).
   */
  readonly upstreamGrant: number;
}

export const DEFAULT_LIFETIMES = { accessToken: 600, refreshToken: 30 * 86_400, code: 60, unusedClient: 30 * 86_400, upstreamGrant: 12 * 3600 } as const satisfies OAuthLifetimes;

export interface AuthorizationServerOptions {
  /** The issuer identifier: this server's public origin, no trailing slash. */
  readonly issuer: string;
  readonly scopePrefix: string;
  readonly keys: SigningKeys;
  readonly store: OAuthStore;
  readonly keyRing: () => KeyRing;
  /** Client ID Metadata Documents (https URL client ids); undefined: registered clients only. */
  readonly clientDocuments?: ClientDocuments | undefined;
  readonly lifetimes?: Partial<OAuthLifetimes>;
  readonly now?: () => number;
}

/** A checked authorization request, waiting for the user's consent. */
export interface AuthorizationRequest {
  readonly client: ClientRecord;
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly codeChallenge: string;
  readonly resource: string;
  readonly scopes: readonly string[] | undefined;
}

/**
 * What checking an authorization request gave: a request to ask consent for, an error to send
 * back to the client's redirect URI, or an error to show the user only (unknown client or
 * redirect URI: never redirect there, RFC 6749 §4.1.2.1).
 */
export type AuthorizeCheck =
  | { readonly kind: 'ok'; readonly request: AuthorizationRequest }
  | { readonly kind: 'redirect'; readonly url: string; readonly error: OAuthError }
  | { readonly kind: 'show'; readonly error: OAuthError };

/** What approving with a one-time sign-in code gave: the redirect, or the tagged reason of the refusal. */
export type SignInCodeApproval =
  | { readonly ok: true; readonly url: string; readonly keyId: string }
  | { readonly ok: false; readonly reason: string; readonly keyId?: string };

export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly refresh_token: string;
  readonly scope: string;
}

/** RFC 9068 §2.1: the `typ` header of our access tokens; tokens of our issuer without it are refused. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** Claim naming the refresh token family an access token came from (revoking the family ends it). */
export const FAMILY_CLAIM = 'warden_fam';

const MAX_PARAM = 2000;
const MAX_REDIRECT_URIS = 10;

type Params = Readonly<Record<string, string | undefined>>;

function param(params: Params, name: string): string | undefined {
  const value = params[name];
  return value === undefined || value === '' ? undefined : value;
}

function required(params: Params, name: string): string {
  const value = param(params, name);
  if (value === undefined) throw new OAuthError('invalid_request', `The ${name} parameter is required`, `missing_${name}`);
  if (value.length > MAX_PARAM) throw new OAuthError('invalid_request', `The ${name} parameter is too long`, `long_${name}`);
  return value;
}

function scopeList(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(' ').filter((scope) => scope.length > 0);
}

export class AuthorizationServer {
  readonly issuer: string;
  /** The one resource tokens are for: this server's MCP endpoint (RFC 8707 canonical URI). */
  readonly resource: string;
  readonly #options: AuthorizationServerOptions;
  readonly #lifetimes: OAuthLifetimes;
  readonly #now: () => number;

  constructor(options: AuthorizationServerOptions) {
    this.#options = options;
    this.issuer = options.issuer;
    this.resource = `${options.issuer}/mcp`;
    this.#lifetimes = { ...DEFAULT_LIFETIMES, ...options.lifetimes };
    this.#now = options.now ?? Date.now;
  }

  get lifetimes(): OAuthLifetimes {
    return this.#lifetimes;
  }

  /** RFC 8414 authorization server metadata. */
  metadata(scopes: readonly string[]): Record<string, unknown> {
    const at = (path: string): string => `${this.issuer}${path}`;
    return {
      issuer: this.issuer,
      authorization_endpoint: at('/oauth/authorize'),
      token_endpoint: at('/oauth/token'),
      registration_endpoint: at('/oauth/register'),
      revocation_endpoint: at('/oauth/revoke'),
      jwks_uri: at('/oauth/jwks'),
      scopes_supported: scopes,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: this.#options.clientDocuments !== undefined,
    };
  }

  /** RFC 7591 §3: registers a public client from its metadata; returns the client information response. */
  async register(body: unknown): Promise<Record<string, unknown>> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new OAuthError('invalid_client_metadata', 'The body must be a JSON object of client metadata', 'not_object');
    const metadata = body as Record<string, unknown>;
    const uris = metadata['redirect_uris'];
    if (!Array.isArray(uris) || uris.length === 0 || uris.length > MAX_REDIRECT_URIS || !uris.every((uri): uri is string => typeof uri === 'string')) {
      throw new OAuthError('invalid_redirect_uri', `redirect_uris must list 1 to ${MAX_REDIRECT_URIS} URIs`, 'redirect_uris_shape');
    }
    for (const uri of uris) {
      if (redirectUriProblem(uri) !== undefined) throw new OAuthError('invalid_redirect_uri', 'A redirect URI must be https, http on a loopback address, or a reverse-domain private-use scheme, without fragment', 'redirect_uri_refused');
    }
    const grantTypes = metadata['grant_types'] ?? ['authorization_code'];
    if (!Array.isArray(grantTypes) || !grantTypes.every((grant) => grant === 'authorization_code' || grant === 'refresh_token')) {
      throw new OAuthError('invalid_client_metadata', 'Only the authorization_code and refresh_token grants are supported', 'grant_types');
    }
    const responseTypes = metadata['response_types'] ?? ['code'];
    if (!Array.isArray(responseTypes) || !responseTypes.every((type) => type === 'code')) throw new OAuthError('invalid_client_metadata', 'Only the code response type is supported', 'response_types');
    const rawName = metadata['client_name'];
    // Shown on the consent page (escaped there); printable characters only (no format characters), bounded.
    const clientName = typeof rawName === 'string' ? displayableClientName(rawName) : undefined;
    const now = this.#now();
    const client: ClientRecord = { clientId: `mcpw_${randomUUID()}`, clientName, redirectUris: [...uris], createdAt: now, expiresAt: now + this.#lifetimes.unusedClient * 1000 };
    await this.#options.store.putClient(client);
    return {
      client_id: client.clientId,
      client_id_issued_at: Math.floor(now / 1000),
      client_name: clientName,
      redirect_uris: client.redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      // Public clients only (RFC 7591 §2: the server may replace a requested method).
      token_endpoint_auth_method: 'none',
    };
  }

  /** RFC 6749 §4.1.1 with PKCE (RFC 7636) and RFC 8707: checks a request before the consent page. */
  async checkAuthorize(params: Params, requester?: string): Promise<AuthorizeCheck> {
    const clientId = param(params, 'client_id');
    const client = clientId === undefined || clientId.length > MAX_PARAM ? undefined : await this.#findClient(clientId, undefined, requester);
    // A metadata document that cannot be used is shown, never redirected to: its redirect URIs are unverified.
    if (client instanceof OAuthError) return { kind: 'show', error: client };
    if (client === undefined) return { kind: 'show', error: new OAuthError('invalid_client', 'Unknown client', 'unknown_client') };
    const redirectUri = param(params, 'redirect_uri');
    if (redirectUri === undefined || !redirectUriMatches(redirectUri, client.redirectUris)) {
      return { kind: 'show', error: new OAuthError('invalid_request', 'The redirect URI is not registered for this client', 'redirect_uri_mismatch') };
    }
    const state = param(params, 'state');
    const refuse = (error: OAuthError): AuthorizeCheck => ({ kind: 'redirect', url: this.errorRedirect(redirectUri, error, state), error });
    if (state !== undefined && state.length > MAX_PARAM) return refuse(new OAuthError('invalid_request', 'The state parameter is too long', 'long_state'));
    if (param(params, 'response_type') !== 'code') return refuse(new OAuthError('unsupported_response_type', 'Only response_type=code is supported', 'response_type'));
    const challenge = param(params, 'code_challenge');
    if (challenge === undefined) return refuse(new OAuthError('invalid_request', 'PKCE is required: send code_challenge with code_challenge_method=S256', 'pkce_missing'));
    // OAuth 2.1 §4.1.1: S256 only; `plain` (or a missing method, which means plain) is refused.
    if (param(params, 'code_challenge_method') !== 'S256') return refuse(new OAuthError('invalid_request', 'Only code_challenge_method=S256 is supported', 'pkce_not_s256'));
    if (!isS256Challenge(challenge)) return refuse(new OAuthError('invalid_request', 'The code_challenge is not an S256 challenge', 'pkce_challenge_shape'));
    const resource = param(params, 'resource');
    if (resource === undefined) return refuse(new OAuthError('invalid_target', `The resource parameter is required (${this.resource})`, 'resource_missing'));
    if (resource !== this.resource) return refuse(new OAuthError('invalid_target', 'This authorization server issues tokens for its own MCP endpoint only', 'resource_other'));
    const scopes = scopeList(param(params, 'scope'));
    return { kind: 'ok', request: { client, redirectUri, state, codeChallenge: challenge, resource, scopes } };
  }

  /** The redirect carrying an error (RFC 6749 §4.1.2.1) with `iss` (RFC 9207). */
  errorRedirect(redirectUri: string, error: OAuthError, state: string | undefined): string {
    const url = new URL(redirectUri);
    url.searchParams.set('error', error.error);
    url.searchParams.set('error_description', error.message);
    if (state !== undefined) url.searchParams.set('state', state);
    url.searchParams.set('iss', this.issuer);
    return url.href;
  }

  /**
   * The user approved with an API key: issues a code and returns the redirect (RFC 6749 §4.1.2,
   * RFC 9207 `iss`). Undefined when the key is not accepted, or not from `clientIp` (the page asks again).
   */
  async approve(request: AuthorizationRequest, apiKey: string, clientIp: string): Promise<{ readonly url: string; readonly keyId: string } | undefined> {
    const now = this.#now();
    const verdict = this.#options.keyRing().verify(apiKey, now);
    if (!verdict.ok) return undefined;
    // A key bound to source addresses signs in only from them, as it would authenticate.
    if (verdict.principal.allowIps !== undefined && !verdict.principal.allowIps.matches(clientIp)) return undefined;
    return { url: await this.#grantKey(request, verdict.principal, now), keyId: verdict.principal.id };
  }

  /**
   * An operator made a one-time sign-in code for the API key `keyId` (security/oauth/sign-in-codes):
   * stored as its digest, valid `ttlSeconds`, single use. Undefined when the key is not active.
   * The printed code is returned once and kept nowhere.
   */
  async issueSignInCode(keyId: string, ttlSeconds: number, issuedBy: string): Promise<{ readonly code: string; readonly expiresAt: number } | undefined> {
    const now = this.#now();
    if (this.#options.keyRing().activePrincipal(keyId, now) === undefined) return undefined;
    const code = newSignInCode();
    const expiresAt = now + ttlSeconds * 1000;
    await this.#options.store.putSignInCode(signInCodeDigest(code) as string, { keyId, issuedBy, expiresAt });
    return { code, expiresAt };
  }

  /**
   * The user approved with a one-time sign-in code instead of a key: the code is spent (whatever
   * follows), then the grant is made exactly as for the key it names, which must still be active
   * and accept `clientIp`. A refusal carries the tagged reason for the audit trail.
   */
  async approveWithSignInCode(request: AuthorizationRequest, typed: string, clientIp: string): Promise<SignInCodeApproval> {
    const digest = signInCodeDigest(typed);
    if (digest === undefined) return { ok: false, reason: 'sign_in_code_unknown' };
    const now = this.#now();
    const taken = await this.#options.store.takeSignInCode(digest, now);
    if (taken.kind === 'unknown') return { ok: false, reason: 'sign_in_code_unknown' };
    if (taken.kind !== 'fresh') return { ok: false, reason: `sign_in_code_${taken.kind === 'spent' ? 'reused' : 'expired'}`, keyId: taken.code.keyId };
    const { keyId } = taken.code;
    const key = this.#options.keyRing().activePrincipal(keyId, now);
    if (key === undefined) return { ok: false, reason: 'sign_in_code_key_inactive', keyId };
    if (key.allowIps !== undefined && !key.allowIps.matches(clientIp)) return { ok: false, reason: 'sign_in_code_key_ip', keyId };
    return { ok: true, url: await this.#grantKey(request, key, now), keyId };
  }

  /** Issues an authorization code for a key sign-in and returns the redirect carrying it. */
  async #grantKey(request: AuthorizationRequest, principal: Principal, now: number): Promise<string> {
    const code = newSecret('mcpwc_');
    await this.#options.store.putCode(digestOf(code), {
      clientId: request.client.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      resource: request.resource,
      scopes: grantedScopes(request.scopes, principal, this.#options.scopePrefix),
      keyId: principal.id,
      expiresAt: now + this.#lifetimes.code * 1000,
    });
    const url = new URL(request.redirectUri);
    url.searchParams.set('code', code);
    if (request.state !== undefined) url.searchParams.set('state', request.state);
    url.searchParams.set('iss', this.issuer);
    return url.href;
  }

  /** The scopes a grant for an upstream identity would carry: the rules' scopes narrowed to those requested (what the approval page shows). */
  identityScopes(request: AuthorizationRequest, allowed: readonly string[]): string[] {
    return grantedFrom(request.scopes, allowed, this.#options.scopePrefix);
  }

  /**
   * The upstream identity provider vouched for a user (security/oauth/upstream-oidc): issues a
   * code for the scopes its rules gave (narrowed to those requested) and returns the redirect.
   * The grant names `oidc:<subject>` (API key ids cannot contain `:`), so no key is consulted.
   */
  async approveIdentity(request: AuthorizationRequest, subject: string, allowed: readonly string[]): Promise<{ readonly url: string; readonly principal: string } | OAuthError> {
    const scopes = this.identityScopes(request, allowed);
    if (scopes.length === 0) return new OAuthError('access_denied', 'None of the requested scopes is allowed for this account', 'upstream_scope_none');
    const now = this.#now();
    const code = newSecret('mcpwc_');
    const principal = `${UPSTREAM_SUBJECT_PREFIX}${subject}`;
    await this.#options.store.putCode(digestOf(code), {
      clientId: request.client.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      resource: request.resource,
      scopes,
      keyId: principal,
      expiresAt: now + this.#lifetimes.code * 1000,
    });
    const url = new URL(request.redirectUri);
    url.searchParams.set('code', code);
    if (request.state !== undefined) url.searchParams.set('state', request.state);
    url.searchParams.set('iss', this.issuer);
    return { url: url.href, principal };
  }

  /**
   * The token endpoint (RFC 6749 §4.1.3, §6): both grants; throws {@link OAuthError}.
   * `requester` (the caller's address key) limits the metadata document fetches it may cause.
   */
  async token(params: Params, requester?: string): Promise<TokenResponse> {
    const grant = required(params, 'grant_type');
    if (grant === 'authorization_code') return this.#redeemCode(params, requester);
    if (grant === 'refresh_token') return this.#refresh(params, requester);
    throw new OAuthError('unsupported_grant_type', 'Supported grants: authorization_code, refresh_token', 'grant_type');
  }

  async #client(params: Params, requester: string | undefined): Promise<ClientRecord> {
    const clientId = required(params, 'client_id');
    const now = this.#now();
    const client = await this.#findClient(clientId, now + this.#lifetimes.unusedClient * 1000, requester);
    if (client instanceof OAuthError && client.error === 'temporarily_unavailable') throw client;
    // At the token endpoint a document that cannot be used (any more) is a client that cannot authenticate: 401.
    if (client instanceof OAuthError) throw new OAuthError('invalid_client', client.message, client.reason);
    if (client === undefined) throw new OAuthError('invalid_client', 'Unknown client', 'unknown_client');
    return client;
  }

  /** A registered client, or the client a metadata document describes (https URL client ids), or why not. */
  async #findClient(clientId: string, touchUntil: number | undefined, requester: string | undefined): Promise<ClientRecord | OAuthError | undefined> {
    const documents = this.#options.clientDocuments;
    if (documents !== undefined && documents.isDocumentId(clientId)) return documents.resolve(clientId, requester);
    return this.#options.store.getClient(clientId, this.#now(), touchUntil);
  }

  /** RFC 8707 §2.2: the resource of a token request must be the one the grant was for. */
  #checkResource(params: Params, granted: string): void {
    if (required(params, 'resource') !== granted) throw new OAuthError('invalid_target', 'The resource does not match the grant', 'resource_mismatch');
  }

  async #redeemCode(params: Params, requester: string | undefined): Promise<TokenResponse> {
    const client = await this.#client(params, requester);
    const code = required(params, 'code');
    const redirectUri = required(params, 'redirect_uri');
    const verifier = required(params, 'code_verifier');
    const resource = required(params, 'resource');
    const now = this.#now();
    // Taken first, so a code is spent by its first redemption whatever that redemption's outcome (RFC 6749 §4.1.2).
    const digest = digestOf(code);
    const taken = await this.#options.store.takeCode(digest, now);
    if (taken.kind === 'unknown') throw new OAuthError('invalid_grant', 'The code is unknown, expired or already used', 'code_unknown');
    if (taken.kind === 'spent') {
      // A code presented twice was intercepted: the grant its first redemption made is revoked (OAuth 2.1 §4.1.3).
      if (taken.familyId !== undefined) await this.#options.store.revokeFamily(taken.familyId);
      throw new OAuthError('invalid_grant', 'The code is unknown, expired or already used', 'code_reused');
    }
    const record = taken.code;
    if (record.clientId !== client.clientId) throw new OAuthError('invalid_grant', 'The code was issued to another client', 'code_other_client');
    if (record.redirectUri !== redirectUri) throw new OAuthError('invalid_grant', 'The redirect_uri does not match the authorization request', 'code_redirect_mismatch');
    if (!pkceMatches(verifier, record.codeChallenge)) throw new OAuthError('invalid_grant', 'The code_verifier does not match the code_challenge', 'pkce_mismatch');
    if (resource !== record.resource) throw new OAuthError('invalid_target', 'The resource does not match the grant', 'resource_mismatch');
    const familyId = randomUUID();
    await this.#options.store.putFamily({
      familyId,
      clientId: client.clientId,
      keyId: record.keyId,
      resource: record.resource,
      scopes: record.scopes,
      expiresAt: now + (isUpstream(record.keyId) ? Math.min(this.#lifetimes.upstreamGrant, this.#lifetimes.refreshToken) : this.#lifetimes.refreshToken) * 1000,
    });
    if (!(await this.#options.store.bindCode(digest, familyId))) {
      // Replayed while this redemption ran: nothing is issued.
      await this.#options.store.revokeFamily(familyId);
      throw new OAuthError('invalid_grant', 'The code is unknown, expired or already used', 'code_reused');
    }
    return this.#issue(familyId, client.clientId, record.keyId, record.resource, record.scopes, now);
  }

  async #refresh(params: Params, requester: string | undefined): Promise<TokenResponse> {
    const client = await this.#client(params, requester);
    const token = required(params, 'refresh_token');
    const now = this.#now();
    const digest = digestOf(token);
    // Every check reads the token without spending it: a request refused for its resource or its
    // scope leaves the token usable (a retry must not look like reuse). Only an issue spends it.
    const lookup = await this.#options.store.peekRefresh(digest, now);
    if (lookup.kind === 'unknown') throw new OAuthError('invalid_grant', 'The refresh token is unknown or expired', 'refresh_unknown');
    const family = lookup.family;
    if (lookup.kind === 'reused') throw await this.#reused(family.familyId);
    if (lookup.kind === 'revoked') throw new OAuthError('invalid_grant', 'The grant was revoked', 'refresh_revoked');
    if (family.clientId !== client.clientId) {
      // Only its own client holds a refresh token (public clients: the token is the credential).
      // Presented by another client, it has leaked: the grant is revoked on purpose (RFC 9700 §4.14).
      await this.#options.store.revokeFamily(family.familyId);
      throw new OAuthError('invalid_grant', 'The refresh token was issued to another client; its grant is revoked', 'refresh_other_client');
    }
    const allowed = this.#allowedNow(family.keyId, family.scopes, now);
    if (allowed === undefined) {
      await this.#options.store.revokeFamily(family.familyId);
      throw new OAuthError('invalid_grant', 'The API key that signed in is no longer accepted', 'key_inactive');
    }
    if (param(params, 'resource') !== undefined) this.#checkResource(params, family.resource);
    // RFC 6749 §6: a requested scope may only narrow the grant.
    const requested = scopeList(param(params, 'scope'));
    if (requested !== undefined && requested.some((scope) => !family.scopes.includes(scope))) throw new OAuthError('invalid_scope', 'The scope exceeds the grant', 'scope_exceeds');
    const scopes = requested === undefined ? allowed : grantedFrom(requested, allowed, this.#options.scopePrefix);
    // The key was narrowed (keys file) below everything this grant (or this request) had: nothing left to issue.
    if (scopes.length === 0) throw new OAuthError('invalid_grant', 'The API key that signed in no longer allows any scope of this grant', 'key_narrowed');
    const used = await this.#options.store.useRefresh(digest, now);
    // Spent or revoked by a request that ran meanwhile: as above.
    if (used.kind === 'reused') throw await this.#reused(family.familyId);
    if (used.kind !== 'fresh') throw new OAuthError('invalid_grant', 'The refresh token is unknown, expired or revoked', `refresh_${used.kind}`);
    return this.#issue(family.familyId, client.clientId, family.keyId, family.resource, scopes, now);
  }

  /** RFC 9700 §4.14.2: a rotated-out token presented again means one of two holders is an attacker. */
  async #reused(familyId: string): Promise<OAuthError> {
    await this.#options.store.revokeFamily(familyId);
    return new OAuthError('invalid_grant', 'The refresh token was already used; its grant is revoked', 'refresh_reused');
  }

  /**
   * What a grant may still do now: for a key sign-in, its scopes narrowed to what the key allows
   * today (the keys file may have cut its tools or its operator role since); undefined when the
   * key is no longer active. Upstream sign-ins have no key: their scopes as granted.
   */
  #allowedNow(keyId: string, scopes: readonly string[], now: number): string[] | undefined {
    if (isUpstream(keyId)) return [...scopes];
    const key = this.#options.keyRing().activePrincipal(keyId, now);
    return key === undefined ? undefined : grantedScopes(scopes, key, this.#options.scopePrefix);
  }

  async #issue(familyId: string, clientId: string, keyId: string, resource: string, scopes: readonly string[], now: number): Promise<TokenResponse> {
    await this.#options.keys.rotateIfDue();
    const { kid, privateKey } = this.#options.keys.current;
    const seconds = Math.floor(now / 1000);
    const accessToken = await new SignJWT({ scope: scopes.join(' '), client_id: clientId, [FAMILY_CLAIM]: familyId })
      // RFC 9068 §2.1: access tokens are typed at+jwt.
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(this.issuer)
      .setAudience(resource)
      .setSubject(keyId)
      .setIssuedAt(seconds)
      .setExpirationTime(seconds + this.#lifetimes.accessToken)
      .setJti(randomUUID())
      .sign(privateKey);
    const refreshToken = newSecret('mcpwr_');
    await this.#options.store.putRefresh(digestOf(refreshToken), familyId, now + this.#lifetimes.refreshToken * 1000);
    return { access_token: accessToken, token_type: 'Bearer', expires_in: this.#lifetimes.accessToken, refresh_token: refreshToken, scope: scopes.join(' ') };
  }

  /**
   * RFC 7009: revokes a refresh token's family, or an access token's family. Unknown or invalid
   * tokens are not an error (§2.2): the answer is the same, so it reveals nothing. A token of
   * another client than the `client_id` sent is refused and stays valid (§2.1: the server checks
   * the token was issued to the client asking); without `client_id` (public clients have no
   * credential, and a token's holder could use it anyway) the token's holder may revoke it.
   */
  async revoke(params: Params): Promise<void> {
    const token = required(params, 'token');
    const hint = param(params, 'token_type_hint');
    if (hint !== undefined && hint !== 'refresh_token' && hint !== 'access_token') throw new OAuthError('unsupported_token_type', 'Supported token types: refresh_token, access_token', 'token_type_hint');
    const clientId = param(params, 'client_id');
    const refuseOther = (owner: unknown): void => {
      if (clientId !== undefined && owner !== clientId) throw new OAuthError('unauthorized_client', 'The token was not issued to this client', 'revoke_other_client');
    };
    if (token.startsWith('mcpwr_')) {
      const lookup = await this.#options.store.peekRefresh(digestOf(token), this.#now());
      if (lookup.kind === 'unknown') return;
      refuseOther(lookup.family.clientId);
      await this.#options.store.revokeFamily(lookup.family.familyId);
      return;
    }
    const payload = await this.#ownAccessToken(token);
    const family = payload?.[FAMILY_CLAIM];
    if (typeof family !== 'string') return;
    refuseOther(payload?.['client_id']);
    await this.#options.store.revokeFamily(family);
  }

  /** The claims of an access token we signed (expired ones too: revoking them is harmless), else undefined. */
  async #ownAccessToken(token: string): Promise<JWTPayload | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.#options.keys.verifyKey, {
        issuer: this.issuer,
        audience: this.resource,
        algorithms: [SIGNING_ALGORITHM],
        typ: ACCESS_TOKEN_TYPE,
        currentDate: new Date(0),
      });
      return payload;
    } catch {
      return undefined;
    }
  }

  /**
   * The check every access token we issued meets after its signature and claims (security/jwt):
   * its family not revoked, its key still active. Returns the principal with the key's current
   * limits (rate limit, source addresses) and the key's id as identity, so the key and its tokens
   * share one rate limit and one session quota; its scopes (so its tools and operator role) are
   * the token's narrowed to what the key allows now (a key cut down in the keys file cuts its
   * tokens at once); or undefined when refused.
   */
  async bindToKey(payload: JWTPayload, principal: Principal): Promise<Principal | undefined> {
    const family = payload[FAMILY_CLAIM];
    if (typeof family !== 'string' || (await this.#options.store.isFamilyRevoked(family))) return undefined;
    const keyId = payload.sub;
    // Signed in through the identity provider: the subject is the identity, the token's scopes its rights.
    if (keyId !== undefined && isUpstream(keyId)) return Object.freeze({ ...principal, id: keyId, scopes: scopesOf(payload) });
    const key = keyId === undefined ? undefined : this.#options.keyRing().activePrincipal(keyId, this.#now());
    if (key === undefined || keyId === undefined) return undefined;
    const prefix = this.#options.scopePrefix;
    const scopes = grantedScopes(scopesOf(payload), key, prefix);
    return Object.freeze({
      ...principal,
      id: keyId,
      name: key.name ?? principal.name,
      rateLimit: key.rateLimit,
      allowIps: key.allowIps,
      scopes,
      tools: toolsOfScopes(scopes, prefix),
      operator: isOperatorScope(scopes, prefix),
    });
  }
}
