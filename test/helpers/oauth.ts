/**
 * mcp-warden as its own OAuth authorization server, for tests: a server whose issuer is its own
 * loopback origin (the port is chosen before it starts), and the steps an OAuth client and its
 * user take, over plain HTTP: dynamic registration, PKCE, the consent page (fetched, the key
 * typed in with the page's CSRF token and cookie, the redirect read), the token endpoint.
 */

import { createHash, randomBytes } from 'node:crypto';
import type { OAuthClientProvider } from '@modelcontextprotocol/client';
import { jwtVerify, SignJWT } from 'jose';
import type { SigningKeys } from '../../src/security/oauth/signing-keys.js';
import { send, type RawResponse } from './http.js';
import { freePort } from './port.js';
import { useWarden, type RunningWarden, type WardenOptions } from './warden.js';

export const REDIRECT_URI = 'http://127.0.0.1:43117/callback';

/** A server that is its own authorization server (`--oauth-issuer http://127.0.0.1:<port>`), stopped when the test ends. */
export async function useOAuthWarden(options: WardenOptions = {}): Promise<RunningWarden & { readonly issuer: string }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const warden = await useWarden({ ...options, options: { port, oauthIssuer: issuer, ...options.options } });
  return Object.assign(warden, { issuer });
}

export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

export function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<RawResponse> {
  return send(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() });
}

export async function registerClient(issuer: string, redirectUris: readonly string[] = [REDIRECT_URI], name = 'Test Client'): Promise<string> {
  const response = await send(`${issuer}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: name, redirect_uris: redirectUris, token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }),
  });
  if (response.status !== 201) throw new Error(`registration: ${response.status} ${response.text}`);
  return response.json<{ client_id: string }>().client_id;
}

export function authorizeUrl(issuer: string, params: Record<string, string | undefined>): string {
  const url = new URL(`${issuer}/oauth/authorize`);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.href;
}

/** What the consent page holds: the transaction, the CSRF token and the cookie it set. */
export interface ConsentForm {
  readonly page: RawResponse;
  readonly transaction: string;
  readonly csrf: string;
  readonly cookie: string;
}

export async function openConsent(url: string): Promise<ConsentForm> {
  const page = await send(url);
  if (page.status !== 200) throw new Error(`consent page: ${page.status} ${page.text.slice(0, 200)}`);
  const field = (name: string): string => new RegExp(`name="${name}" value="([^"]+)"`).exec(page.text)?.[1] ?? '';
  const setCookie = page.headers['set-cookie'];
  const cookie = (Array.isArray(setCookie) ? setCookie[0] : setCookie)?.split(';')[0] ?? '';
  return { page, transaction: field('transaction'), csrf: field('csrf'), cookie };
}

/** Submits the consent form as the browser would (its cookie, its CSRF token) and returns the response. */
export function submitConsent(issuer: string, form: ConsentForm, fields: Record<string, string>): Promise<RawResponse> {
  return postForm(`${issuer}/oauth/authorize`, { transaction: form.transaction, csrf: form.csrf, action: 'approve', ...fields }, { cookie: form.cookie, origin: issuer });
}

export interface Tokens {
  readonly access_token: string;
  readonly refresh_token: string;
  readonly expires_in: number;
  readonly scope: string;
}

/** The whole key sign-in: register, authorize with PKCE, consent with `key`, redeem the code. */
export async function signIn(issuer: string, key: string, scope?: string): Promise<{ tokens: Tokens; clientId: string }> {
  const clientId = await registerClient(issuer);
  const { verifier, challenge } = pkce();
  const form = await openConsent(
    authorizeUrl(issuer, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', resource: `${issuer}/mcp`, state: 'st', scope }),
  );
  const approved = await submitConsent(issuer, form, { api_key: key });
  if (approved.status !== 302) throw new Error(`consent: ${approved.status} ${approved.text.slice(0, 200)}`);
  const code = new URL(approved.headers['location'] as string).searchParams.get('code') ?? '';
  const token = await postForm(`${issuer}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: clientId, code_verifier: verifier, resource: `${issuer}/mcp` });
  if (token.status !== 200) throw new Error(`token: ${token.status} ${token.text}`);
  return { tokens: token.json<Tokens>(), clientId };
}

/** An SDK v2 `OAuthClientProvider` keeping everything in memory, for a native client on a loopback callback. */
export type MemoryOAuthProvider = OAuthClientProvider & { authorizationUrl: URL | undefined; readonly saved: Record<string, unknown> };

/**
 * An in-memory provider: registration, tokens, PKCE verifier and discovery state kept in `saved`;
 * the authorization URL the SDK hands over is kept in `authorizationUrl` for the test's browser
 * step. `clientMetadataUrl` makes it a Client ID Metadata Document client.
 *
 * @example
 * const provider = memoryOAuthProvider(listener.redirectUri, { clientName: 'SDK v2 test client' });
 * const transport = new StreamableHTTPClientTransport(new URL(warden.mcpUrl), { authProvider: provider });
 */
export function memoryOAuthProvider(redirectUrl: string, options: { readonly clientName: string; readonly state?: string; readonly clientMetadataUrl?: string }): MemoryOAuthProvider {
  const saved: Record<string, unknown> = {};
  return {
    saved,
    ...(options.clientMetadataUrl === undefined ? {} : { clientMetadataUrl: options.clientMetadataUrl }),
    authorizationUrl: undefined,
    get redirectUrl() {
      return redirectUrl;
    },
    get clientMetadata() {
      return { client_name: options.clientName, redirect_uris: [redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
    },
    state: () => options.state ?? 'sdk-state',
    clientInformation: () => saved['client'] as never,
    saveClientInformation: (info) => {
      saved['client'] = info;
    },
    tokens: () => saved['tokens'] as never,
    saveTokens: (tokens) => {
      saved['tokens'] = tokens;
    },
    saveCodeVerifier: (verifier) => {
      saved['verifier'] = verifier;
    },
    codeVerifier: () => saved['verifier'] as string,
    saveDiscoveryState: (state) => {
      saved['discovery'] = state;
    },
    discoveryState: () => saved['discovery'] as never,
    // What the SDK calls when the server refused a credential (invalid_grant on refresh: 'tokens').
    invalidateCredentials(scope) {
      if (scope === 'all' || scope === 'tokens') delete saved['tokens'];
      if (scope === 'all' || scope === 'client') delete saved['client'];
      if (scope === 'all' || scope === 'verifier') delete saved['verifier'];
      if (scope === 'all' || scope === 'discovery') delete saved['discovery'];
    },
    redirectToAuthorization(url) {
      this.authorizationUrl = url;
    },
  } as MemoryOAuthProvider;
}

/** A token signed with the current key of `keys` (for signing-key tests). */
export async function signWithCurrentKey(keys: SigningKeys): Promise<string> {
  const { kid, privateKey } = keys.current;
  return new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setSubject('s').sign(privateKey);
}

/** Whether `token` verifies against the keys `keys` publishes now. */
export async function verifiesWith(keys: SigningKeys, token: string): Promise<boolean> {
  try {
    await jwtVerify(token, keys.verifyKey, { algorithms: ['ES256'] });
    return true;
  } catch {
    return false;
  }
}
