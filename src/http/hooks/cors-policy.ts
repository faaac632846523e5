/**
 * @module http/hooks/cors-policy
 * Which cross-origin browser requests get CORS answers (Fetch Standard §CORS protocol), per
 * path, for `@fastify/cors`'s delegator:
 *
 * - The public, credential-free OAuth endpoints (metadata, JWKS, registration, token,
 *   revocation): any origin, never with credentials. Browser-based OAuth clients (the MCP
 *   Inspector in direct mode, web apps) run discovery, dynamic registration and the token
 *   exchange from their own origin. These endpoints read no cookie and no ambient credential:
 *   what a page could do through a visitor's browser it can do from anywhere, and the grant
 *   rests on PKCE, the client's own redirect URIs and the user's consent, not on the origin
 *   (RFC 9700 §2.1.1; OAuth 2.1 §7.4 on public clients). So `Access-Control-Allow-Origin: *`
 *   and no `Access-Control-Allow-Credentials`. The consent page (`/oauth/authorize`) and the
 *   upstream callback stay navigation-only: no CORS, and the Origin guard still refuses a
 *   foreign `Origin` there (the consent post is CSRF-checked besides); even an origin listed
 *   with `--cors-origin` gets no CORS answer from them.
 * - Everything else (`/mcp`, `/api/*`): only the origins listed with `--cors-origin`, as before.
 *   Besides the fixed request headers, a preflight may ask for `Mcp-Param-*` (2026-07-28
 *   per-argument headers, named by each tool's schema), which are allowed by pattern.
 *
 * Hand-written: a small policy table over `@fastify/cors`, which does the protocol.
 */

import type { FastifyRequest } from 'fastify';
import type { FastifyCorsOptions } from '@fastify/cors';

/** Paths of the public OAuth endpoints that answer any origin (see the module header). */
export interface PublicOAuthPaths {
  /** RFC 9728 metadata is served (resource-server mode or `--oauth-issuer`). */
  readonly protectedResource: boolean;
  /** mcp-warden is its own authorization server (`--oauth-issuer`). */
  readonly authorizationServer: boolean;
}

const PROTECTED_RESOURCE_PATHS = ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp'];
const AUTHORIZATION_SERVER_PATHS = ['/.well-known/oauth-authorization-server', '/oauth/jwks', '/oauth/register', '/oauth/token', '/oauth/revoke'];
/** Pages a browser navigates to (the consent page and its post, the upstream callback): never CORS, even for a listed origin. */
const NAVIGATION_PATHS = new Set(['/oauth/authorize', '/oauth/callback']);

/**
 * The request path of an origin-form target (no query), percent-decoded as the router decodes it
 * (`/oauth/%61uthorize` is the consent page); undefined for any other form or a malformed escape.
 */
function pathOf(request: FastifyRequest): string | undefined {
  const target = request.raw.url ?? '';
  if (!target.startsWith('/')) return undefined;
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  if (!path.includes('%')) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}

/** The predicate "this request is for a public OAuth endpoint", for the CORS policy and the Origin guard. */
export function publicOAuthPaths(paths: PublicOAuthPaths): (request: FastifyRequest) => boolean {
  const set = new Set([...(paths.protectedResource ? PROTECTED_RESOURCE_PATHS : []), ...(paths.authorizationServer ? AUTHORIZATION_SERVER_PATHS : [])]);
  return function isPublicOAuth(request: FastifyRequest): boolean {
    const path = pathOf(request);
    return path !== undefined && set.has(path);
  };
}

const PUBLIC_OAUTH_CORS = {
  origin: '*',
  credentials: false,
  methods: ['GET', 'POST', 'OPTIONS'],
  // The MCP SDK sends MCP-Protocol-Version on discovery; JSON registration needs Content-Type.
  allowedHeaders: ['Content-Type', 'Accept', 'MCP-Protocol-Version'],
  exposedHeaders: ['WWW-Authenticate', 'Retry-After', 'Cache-Control'],
  maxAge: 600,
  strictPreflight: true,
} as const satisfies FastifyCorsOptions;

const NO_CORS = { origin: false } as const satisfies FastifyCorsOptions;

const MCP_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Accept', 'Mcp-Session-Id', 'MCP-Protocol-Version', 'Last-Event-ID', 'Mcp-Method', 'Mcp-Name'];
const MCP_PARAM_HEADER = /^mcp-param-[a-z0-9-]{1,64}$/;
/** At most this many `Mcp-Param-*` headers are allowed by one preflight. */
const MAX_PARAM_HEADERS = 32;

/** `Mcp-Param-*` names a preflight asks for (lowercased, bounded). */
function requestedParamHeaders(request: FastifyRequest): string[] {
  const asked = request.headers['access-control-request-headers'];
  if (typeof asked !== 'string' || asked.length > 4096) return [];
  return asked
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => MCP_PARAM_HEADER.test(name))
    .slice(0, MAX_PARAM_HEADERS);
}

export interface CorsPolicyOptions {
  /** `--cors-origin`: the origins allowed on `/mcp` and `/api/*`. */
  readonly corsOrigins: readonly string[];
  readonly isPublicOAuth: (request: FastifyRequest) => boolean;
}

/**
 * The options `@fastify/cors` applies to a request.
 *
 * @example
 * await app.register(cors, { delegator: createCorsPolicy({ corsOrigins, isPublicOAuth }) });
 */
export function createCorsPolicy(options: CorsPolicyOptions): (request: FastifyRequest, callback: (error: Error | null, corsOptions: FastifyCorsOptions) => void) => void {
  const origin = options.corsOrigins.length > 0 ? [...options.corsOrigins] : false;
  const mcp = {
    origin,
    methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    allowedHeaders: MCP_ALLOWED_HEADERS,
    exposedHeaders: ['Mcp-Session-Id', 'WWW-Authenticate', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy'],
    maxAge: 600,
    strictPreflight: true,
  } satisfies FastifyCorsOptions;
  return function corsPolicy(request, callback): void {
    if (options.isPublicOAuth(request)) {
      callback(null, PUBLIC_OAUTH_CORS);
      return;
    }
    const path = pathOf(request);
    if (path !== undefined && NAVIGATION_PATHS.has(path)) {
      callback(null, NO_CORS);
      return;
    }
    const params = origin === false || request.method !== 'OPTIONS' ? [] : requestedParamHeaders(request);
    callback(null, params.length === 0 ? mcp : { ...mcp, allowedHeaders: [...MCP_ALLOWED_HEADERS, ...params] });
  };
}
