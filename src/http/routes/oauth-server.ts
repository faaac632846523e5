/**
 * @module http/routes/oauth-server
 * The HTTP face of mcp-warden's own authorization server (`--oauth-issuer`; the logic is
 * security/oauth/authorization-server): RFC 8414 metadata, the JWKS, RFC 7591 registration
 * (rate-limited per address, across replicas with Redis), the key sign-in consent page and its post (or, with upstream
 * OpenID Connect sign-in, the redirect to the provider, its `/oauth/callback`, and our approval page
 * naming the client and the signed-in user, whose post alone issues the code), the token endpoint
 * and RFC 7009 revocation. Form bodies (`application/x-www-form-urlencoded`) are parsed only
 * inside this plugin; a parameter sent twice is refused (RFC 6749 §3.1, §3.2). Answers are
 * the RFCs' JSON errors with fixed descriptions; the tagged reason goes to the log only. When
 * the shared state fails (Redis down or slow), no grant is made and every route says so with 503
 * `temporarily_unavailable` (a page where a browser is), never a 500.
 */

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SecurityEvents } from '../../observability/security-events.js';
import type { BanList } from '../../security/ban-list.js';
import { clientKey } from '../../security/client-ip.js';
import type { AuthorizationServer } from '../../security/oauth/authorization-server.js';
import { ConsentTransactions } from '../../security/oauth/consent.js';
import { WardenError } from '../../errors.js';
import { OAuthError } from '../../security/oauth/grants.js';
import type { SigningKeys } from '../../security/oauth/signing-keys.js';
import type { UpstreamOidc } from '../../security/oauth/upstream-oidc.js';
import { MemoryRateLimitStore } from '../../store/memory/rate-limit.js';
import type { RateLimitStore } from '../../store/types.js';
import { afterCounting, countTowardBan } from '../hooks/auth.js';
import { consentCsp, renderConsentError, renderConsentPage, renderUpstreamConsentPage } from '../oauth-consent-page.js';

export interface OAuthServerRoutesOptions {
  readonly server: AuthorizationServer;
  readonly signingKeys: SigningKeys;
  /** Upstream OpenID Connect sign-in instead of the key consent page. */
  readonly upstream?: UpstreamOidc | undefined;
  /** Scopes for the metadata (the tool list can change). */
  readonly scopes: () => Promise<string[]>;
  readonly events: SecurityEvents;
  readonly bans: BanList;
  /** Registrations per client address per hour (default 20). */
  readonly registrationsPerHour?: number;
  /** Pending consents (key sign-in, and approval after an upstream sign-in; shared by the replicas with Redis); default: this process. */
  readonly consents?: ConsentTransactions;
  /** Where registrations are counted (a one-hour window; shared by the replicas with Redis); default: this process. */
  readonly registrations?: RateLimitStore;
  readonly now?: () => number;
}

export const AUTHORIZATION_SERVER_METADATA_PATH = '/.well-known/oauth-authorization-server';
const FORM_LIMIT = 16_384;
type Params = Record<string, string | undefined>;

/** Single-valued parameters, or undefined when one was sent twice. */
function singleValued(input: unknown): Params | undefined {
  const params: Params = {};
  if (typeof input !== 'object' || input === null) return params;
  for (const [name, value] of Object.entries(input as Record<string, unknown>)) {
    if (typeof value !== 'string') return undefined;
    params[name] = value;
  }
  return params;
}

function parseForm(body: string): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(body)) {
    const held = result[name];
    result[name] = held === undefined ? value : [...(Array.isArray(held) ? held : [held]), value];
  }
  return result;
}

function cookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

function sendOAuthError(request: FastifyRequest, reply: FastifyReply, error: OAuthError, events: SecurityEvents): FastifyReply {
  request.failure = error.reason;
  events.oauthRefused(request.ip, error.error, error.reason, request.routeOptions.url ?? '');
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  // RFC 6749 §5.2: invalid_client at the token endpoint is a 401; public clients have no scheme to challenge with but Bearer's realm.
  if (error.status === 401) headers['www-authenticate'] = 'Bearer realm="mcp-warden", error="invalid_client"';
  return reply.code(error.status).headers(headers).send(error.body());
}

/**
 * A failure of the shared state (Redis down or slow: shared-state/fail-closed, or the registration
 * limiter under `--redis-failure closed`) in OAuth's words; undefined for any other error. No grant
 * is made then: the client is told to try again, not that its grant is bad.
 */
function sharedStateRefusal(error: unknown): OAuthError | undefined {
  if (!(error instanceof WardenError) || error.code !== 'WARDEN_ERR_SHARED_STATE_UNAVAILABLE') return undefined;
  return new OAuthError('temporarily_unavailable', 'The authorization server cannot reach its shared state; try again shortly', 'shared_state_unavailable');
}

/** Paths answered with an HTML page (a browser is there), not with JSON. */
const PAGE_PATHS = new Set(['/oauth/authorize', '/oauth/callback']);

function sendPage(reply: FastifyReply, status: number, html: string, csp = "default-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"): FastifyReply {
  return reply
    .code(status)
    // same-origin, not the global no-referrer: under no-referrer browsers send `Origin: null` with
    // the form post, which the Origin guard refuses; the redirect to the client still carries no Referer.
    .headers({ 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp, 'cache-control': 'no-store', 'referrer-policy': 'same-origin' })
    .send(html);
}

/** Registers the authorization server's routes (inside their own plugin scope, for the form parser). */
export async function registerOAuthServerRoutes(app: FastifyInstance, options: OAuthServerRoutesOptions): Promise<void> {
  const { server, signingKeys } = options;
  const now = options.now ?? Date.now;
  const consents = options.consents ?? new ConsentTransactions({ now });
  const registrations = options.registrations ?? new MemoryRateLimitStore({ windowMs: 3_600_000, maxLimit: 1000, maxClients: 10_000, sweep: false, now });
  app.addHook('onClose', async () => {
    await registrations.close();
  });
  const perHour = options.registrationsPerHour ?? 20;
  const secureCookie = server.issuer.startsWith('https://');
  // __Host- binds the cookie to this origin (no Domain, Path=/, Secure): only possible over https.
  const csrfCookie = secureCookie ? '__Host-mcpw-oauth' : 'mcpw-oauth';
  // Binds an upstream sign-in to the browser that started it. SameSite=Lax: the provider's redirect back is a cross-site top-level GET.
  const browserCookie = secureCookie ? '__Host-mcpw-oidc' : 'mcpw-oidc';
  const { upstream } = options;

  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_request, body, done) => {
      done(null, parseForm(body as string));
    });

    // Redis failed under a route: 503 temporarily_unavailable (a page for the browser's routes, JSON for the others); anything else goes to the app's handler.
    scope.setErrorHandler((error, request, reply) => {
      const refusal = sharedStateRefusal(error);
      if (refusal === undefined) throw error;
      const route = request.routeOptions.url ?? '';
      reply.header('retry-after', '1');
      if (!PAGE_PATHS.has(route)) return sendOAuthError(request, reply, refusal, options.events);
      request.failure = refusal.reason;
      options.events.oauthRefused(request.ip, refusal.error, refusal.reason, route);
      return sendPage(reply, 503, renderConsentError('The sign-in service is briefly unavailable; try again in a moment.'));
    });

    scope.get(AUTHORIZATION_SERVER_METADATA_PATH, async () => server.metadata(await options.scopes()));

    scope.get('/oauth/jwks', async (_request, reply) => {
      signingKeys.prune();
      return reply.header('cache-control', 'public, max-age=300').send(signingKeys.jwks());
    });

    scope.post('/oauth/register', async (request, reply) => {
      const decision = await registrations.consume(clientKey(request.ip), perHour);
      if (!decision.allowed) {
        options.events.rateLimited(request.ip, 'ip');
        return reply
          .code(429)
          .headers({ 'retry-after': String(Math.ceil(decision.resetMs / 1000)), 'cache-control': 'no-store' })
          .send({ error: 'temporarily_unavailable', error_description: 'Too many registrations from this address; try again later' });
      }
      try {
        return reply.code(201).header('cache-control', 'no-store').send(await server.register(request.body));
      } catch (error) {
        if (error instanceof OAuthError) return sendOAuthError(request, reply, error, options.events);
        throw error;
      }
    });

    scope.get('/oauth/authorize', async (request, reply) => {
      const params = singleValued(request.query);
      if (params === undefined) return sendPage(reply, 400, renderConsentError('A parameter was sent more than once.'));
      const check = await server.checkAuthorize(params, clientKey(request.ip));
      if (check.kind === 'show') {
        request.failure = check.error.reason;
        options.events.oauthRefused(request.ip, check.error.error, check.error.reason, '/oauth/authorize');
        return sendPage(reply, 400, renderConsentError(check.error.message));
      }
      if (check.kind === 'redirect') {
        request.failure = check.error.reason;
        options.events.oauthRefused(request.ip, check.error.error, check.error.reason, '/oauth/authorize');
        return reply.code(302).header('location', check.url).header('cache-control', 'no-store').send();
      }
      if (upstream !== undefined) {
        let started: { url: string; browser: string };
        try {
          started = await upstream.start(check.request);
        } catch (failure) {
          const error = sharedStateRefusal(failure) ?? new OAuthError('temporarily_unavailable', 'The identity provider cannot be reached', 'upstream_discovery');
          request.failure = error.reason;
          options.events.oauthRefused(request.ip, error.error, error.reason, '/oauth/authorize');
          return reply.code(302).header('location', server.errorRedirect(check.request.redirectUri, error, check.request.state)).header('cache-control', 'no-store').send();
        }
        reply.header('set-cookie', `${browserCookie}=${started.browser}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600${secureCookie ? '; Secure' : ''}`);
        return reply.code(302).header('location', started.url).header('cache-control', 'no-store').send();
      }
      const { id, nonce, csrf } = await consents.open(check.request);
      const { client, redirectUri, scopes } = check.request;
      reply.header('set-cookie', `${csrfCookie}=${nonce}; Path=/; HttpOnly; SameSite=Strict; Max-Age=600${secureCookie ? '; Secure' : ''}`);
      return sendPage(reply, 200, renderConsentPage({ clientName: client.clientName, clientId: client.clientId, redirectUri, scopes, transaction: id, csrf }), consentCsp(redirectUri));
    });

    scope.post('/oauth/authorize', async (request, reply) => {
      const params = singleValued(request.body);
      const id = params?.['transaction'];
      const pending = id === undefined ? undefined : await consents.get(id);
      if (params === undefined || id === undefined || pending === undefined) {
        request.failure = 'consent_unknown';
        return sendPage(reply, 400, renderConsentError('This sign-in has expired or was already used; start again from your client.'));
      }
      const nonce = cookie(request, csrfCookie);
      if (!consents.csrfValid(id, nonce, params['csrf'])) {
        request.failure = 'csrf';
        options.events.oauthRefused(request.ip, 'access_denied', 'csrf', '/oauth/authorize');
        return sendPage(reply, 403, renderConsentError('The form could not be verified (CSRF check). Start again from your client.'));
      }
      const { request: authorization, identity } = pending;
      if (params['action'] === 'deny') {
        consents.close(id);
        request.failure = 'consent_denied';
        options.events.oauthRefused(request.ip, 'access_denied', 'consent_denied', '/oauth/authorize');
        const url = server.errorRedirect(authorization.redirectUri, new OAuthError('access_denied', 'The user denied the request'), authorization.state);
        return reply.code(302).header('location', url).header('cache-control', 'no-store').send();
      }
      if (identity !== undefined) {
        // Upstream sign-in: the provider said who; only the user's Approve on our page issues the code.
        if (params['action'] !== 'approve') {
          request.failure = 'consent_action';
          return sendPage(reply, 400, renderConsentError('Choose Approve or Deny.'));
        }
        // Spent before the code exists: a replayed post finds nothing, on any replica.
        await consents.end(id);
        const approved = await server.approveIdentity(authorization, identity.subject, identity.scopes);
        if (approved instanceof OAuthError) {
          request.failure = approved.reason;
          options.events.oauthRefused(request.ip, approved.error, approved.reason, '/oauth/authorize');
          return reply.code(302).header('location', server.errorRedirect(authorization.redirectUri, approved, authorization.state)).header('cache-control', 'no-store').send();
        }
        options.events.oauthSignIn(request.ip, approved.principal, authorization.client.clientId, 'oidc');
        return reply.code(302).header('location', approved.url).header('cache-control', 'no-store').send();
      }
      if (upstream !== undefined) {
        // Key sign-in is off with an upstream provider: a key consent cannot be completed here.
        request.failure = 'consent_unknown';
        return sendPage(reply, 400, renderConsentError('This sign-in has expired or was already used; start again from your client.'));
      }
      const apiKey = params['api_key'] ?? '';
      const typedCode = params['sign_in_code'] ?? '';
      const again = (status: number, notice: string): FastifyReply =>
        sendPage(
          reply,
          status,
          renderConsentPage({
            clientName: authorization.client.clientName,
            clientId: authorization.client.clientId,
            redirectUri: authorization.redirectUri,
            scopes: authorization.scopes,
            transaction: id,
            csrf: consents.csrfFor(id, nonce as string),
            notice,
          }),
          consentCsp(authorization.redirectUri),
        );
      // A wrong key or code counts toward the brute-force ban, like a wrong Bearer key.
      const refused = (notice: string): Promise<FastifyReply> =>
        new Promise<FastifyReply>((resolve) => {
          afterCounting(countTowardBan(options.bans, options.events, request.ip), () => resolve(again(401, notice)));
        });
      if (apiKey !== '' && typedCode !== '') {
        request.failure = 'consent_key_and_code';
        return again(400, 'Enter an API key or a one-time code, not both.');
      }
      if (typedCode !== '') {
        const result = await server.approveWithSignInCode(authorization, typedCode, request.ip);
        if (!result.ok) {
          request.failure = result.reason;
          options.events.signInCodeRefused(request.ip, result.reason, result.keyId);
          return refused('That one-time code was not accepted.');
        }
        consents.close(id);
        options.events.oauthSignIn(request.ip, result.keyId, authorization.client.clientId, 'one_time_code');
        return reply.code(302).header('location', result.url).header('cache-control', 'no-store').send();
      }
      const approved = apiKey === '' || apiKey.length > 512 ? undefined : await server.approve(authorization, apiKey, request.ip);
      if (approved === undefined) {
        request.failure = 'consent_key_refused';
        options.events.authFailure(request.ip, 'consent_key_refused', '/oauth/authorize');
        return refused('That API key was not accepted.');
      }
      consents.close(id);
      options.events.oauthSignIn(request.ip, approved.keyId, authorization.client.clientId, 'api_key');
      return reply.code(302).header('location', approved.url).header('cache-control', 'no-store').send();
    });

    if (upstream !== undefined) {
      // The provider's redirect back (OIDC Core §3.1.2.5): state names the pending MCP authorization.
      scope.get('/oauth/callback', async (request, reply) => {
        const params = singleValued(request.query);
        const pending = await upstream.take(params?.['state'], cookie(request, browserCookie));
        if (params === undefined || pending === undefined) {
          request.failure = 'upstream_state';
          options.events.oauthRefused(request.ip, 'invalid_request', 'upstream_state', '/oauth/callback');
          return sendPage(reply, 400, renderConsentError('This sign-in has expired, was already used or was started in another browser; start again from your client.'));
        }
        const { request: authorization } = pending;
        const back = (error: OAuthError): FastifyReply => {
          request.failure = error.reason;
          options.events.oauthRefused(request.ip, error.error, error.reason, '/oauth/callback');
          return reply.code(302).header('location', server.errorRedirect(authorization.redirectUri, error, authorization.state)).header('cache-control', 'no-store').send();
        };
        const code = params['code'];
        try {
          // RFC 9207 §2.4: the response must come from the provider we sent the user to (mix-up), errors included.
          const mixUp = await upstream.checkIssuer(params['iss']);
          if (mixUp !== undefined) return back(mixUp);
          if (params['error'] !== undefined || code === undefined || code.length > 2000) return back(new OAuthError('access_denied', 'The identity provider did not sign the user in', 'upstream_error'));
          const identity = await upstream.finish(pending, code);
          const scopes = server.identityScopes(authorization, identity.scopes);
          if (scopes.length === 0) return back(new OAuthError('access_denied', 'None of the requested scopes is allowed for this account', 'upstream_scope_none'));
          // Our own consent page (MCP security best practices, confused deputy): the provider's single
          // sign-on alone must not hand a code to whatever client and redirect URI the link named.
          const { id, nonce, csrf } = await consents.open(authorization, { subject: identity.subject, email: identity.email, scopes });
          const { client, redirectUri } = authorization;
          reply.header('set-cookie', `${csrfCookie}=${nonce}; Path=/; HttpOnly; SameSite=Strict; Max-Age=600${secureCookie ? '; Secure' : ''}`);
          return sendPage(
            reply,
            200,
            renderUpstreamConsentPage({ clientName: client.clientName, clientId: client.clientId, redirectUri, scopes, subject: identity.subject, email: identity.email, transaction: id, csrf }),
            consentCsp(redirectUri),
          );
        } catch (error) {
          // The sign-in is spent: the client hears why and starts again (RFC 6749 §4.1.2.1 temporarily_unavailable when Redis failed).
          const refusal = error instanceof OAuthError ? error : sharedStateRefusal(error);
          if (refusal !== undefined) return back(refusal);
          throw error;
        }
      });
    }

    scope.post('/oauth/token', async (request, reply) => {
      const params = singleValued(request.body);
      try {
        if (params === undefined) throw new OAuthError('invalid_request', 'A parameter was sent more than once', 'duplicate_param');
        const tokens = await server.token(params, clientKey(request.ip));
        return reply.headers({ 'cache-control': 'no-store', pragma: 'no-cache' }).send(tokens);
      } catch (error) {
        if (error instanceof OAuthError) return sendOAuthError(request, reply, error, options.events);
        throw error;
      }
    });

    scope.post('/oauth/revoke', async (request, reply) => {
      const params = singleValued(request.body);
      try {
        if (params === undefined) throw new OAuthError('invalid_request', 'A parameter was sent more than once', 'duplicate_param');
        await server.revoke(params);
        return reply.code(200).header('cache-control', 'no-store').send();
      } catch (error) {
        if (error instanceof OAuthError) return sendOAuthError(request, reply, error, options.events);
        throw error;
      }
    });
  });
}
