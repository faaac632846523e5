/**
 * @module security/identity
 * Who the caller is, in one place: the {@link Principal} every credential resolves to, the
 * {@link ANONYMOUS} principal of unauthenticated requests and of the shared engine, and the
 * auth info handed to MCP handlers ({@link authInfoOf}), which never carries the secret, and the
 * way back from that auth info to the principal ({@link principalOfAuthInfo}), for code that
 * runs inside the engine and must know who asked (the request-state binding).
 */

import type { AuthInfo } from '@modelcontextprotocol/server';
import type { IpMatcher } from './ip-rules.js';

/** Who made a request, as far as the server knows. Never carries the secret. */
export interface Principal {
  readonly kind: 'api-key' | 'jwt' | 'anonymous';
  /** Stable identifier: the key's id (fingerprint for configured keys) or the token subject. */
  readonly id: string;
  /** Human label, when one was configured (key name, OAuth client id). */
  readonly name: string | undefined;
  /** Tools this principal may list and call; undefined means all. */
  readonly tools?: ReadonlySet<string> | undefined;
  /** Requests per rate window for this principal, on top of the per-IP limit. */
  readonly rateLimit?: number | undefined;
  /** Source addresses this principal may use; undefined means any. */
  readonly allowIps?: IpMatcher | undefined;
  /** OAuth scopes of a token principal. */
  readonly scopes?: readonly string[] | undefined;
  /**
   * Epoch ms from which the presented credential is refused (a token's `exp` plus the clock
   * leeway); its sessions end then. Undefined for API keys: the key ring is asked instead,
   * since a key's expiry and revocation can change after a session was opened.
   */
  readonly expiresAt?: number | undefined;
  /**
   * May read operator data: `/api/status`, `/metrics`, the console, the full tool catalog, the
   * status resource and operator-only tools. Absent means no (least privilege).
   */
  readonly operator?: boolean | undefined;
}

/** The principal of requests without credentials, and of the stateless server (requests still carry their own). */
export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous', id: 'anonymous', name: undefined });

/** Auth info handed to MCP handlers: who, never the secret (the fingerprint stands in for it). */
const authInfos = new WeakMap<Principal, AuthInfo>();
/** The other way: only auth info built here maps to a principal (a look-alike object does not). */
const principals = new WeakMap<AuthInfo, Principal>();

/**
 * The auth info MCP handlers see for a principal, built once per principal object.
 *
 * @example
 * const info = authInfoOf(ANONYMOUS); // { token: 'anonymous', clientId: 'anonymous', scopes: [], ... }
 */
export function authInfoOf(principal: Principal): AuthInfo {
  let info = authInfos.get(principal);
  if (info === undefined) {
    info = { token: principal.id, clientId: principal.id, scopes: [...(principal.scopes ?? [])], extra: { principalKind: principal.kind, name: principal.name } };
    authInfos.set(principal, info);
    principals.set(info, principal);
  }
  return info;
}

/**
 * The principal an MCP handler's `ctx.http.authInfo` was built for by {@link authInfoOf};
 * undefined for missing auth info or auth info built anywhere else.
 *
 * @example
 * principalOfAuthInfo(authInfoOf(ANONYMOUS)) === ANONYMOUS; // true
 * principalOfAuthInfo({ token: 'anonymous', clientId: 'anonymous', scopes: [] }); // undefined
 */
export function principalOfAuthInfo(info: AuthInfo | undefined): Principal | undefined {
  return info === undefined ? undefined : principals.get(info);
}
