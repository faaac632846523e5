/**
 * @module http/challenge
 * `WWW-Authenticate` values (RFC 6750 §3; RFC 9728 §5.1 for `resource_metadata`). Built once
 * at start; the scope challenge names the scope that would allow the refused tool, or the
 * operator scope for operator data. A refused token's `error_description` says what to send
 * instead (clients surface it); a request with no credentials gets no error attributes, as
 * RFC 6750 §3.1 asks.
 */

import type { Denial } from '../mcp/access.js';

export interface ChallengeOptions {
  readonly realm: string;
  /** URL of the protected resource metadata, when OAuth tokens are accepted. */
  readonly resourceMetadataUrl?: string | undefined;
  /** Scope prefix for tool scopes (OAuth mode). */
  readonly scopePrefix?: string | undefined;
}

export interface Challenges {
  /** No credentials were sent (RFC 6750 §3: no error code). */
  readonly missing: Readonly<Record<string, string>>;
  /** A token was sent and refused. */
  readonly invalid: Readonly<Record<string, string>>;
  /** The caller is authenticated but may not use the tool, or is not an operator. */
  scope(denial: Denial): Record<string, string>;
  /** The caller is authenticated but is not an operator (RFC 6750 §3.1 insufficient_scope). */
  readonly operator: Readonly<Record<string, string>>;
}

export function createChallenges(options: ChallengeOptions): Challenges {
  const oauth = options.resourceMetadataUrl !== undefined;
  const base = `Bearer realm="${options.realm}"${oauth ? `, resource_metadata="${options.resourceMetadataUrl}"` : ''}`;
  // RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash).
  const invalidDescription = oauth
    ? 'Send a valid API key or access token as Authorization: Bearer <credential>; this one is unknown, revoked, expired or malformed'
    : 'Send a valid API key as Authorization: Bearer <key>; this one is unknown, revoked, expired or malformed';
  const operatorScope = options.scopePrefix === undefined ? '' : `, scope="${options.scopePrefix}operator"`;
  const operator = Object.freeze({
    'www-authenticate': `${base}, error="insufficient_scope"${operatorScope}, error_description="This credential is not an operator credential"`,
  });
  return {
    missing: Object.freeze({ 'www-authenticate': base }),
    invalid: Object.freeze({
      'www-authenticate': `${base}, error="invalid_token", error_description="${invalidDescription}"`,
    }),
    operator,
    scope(denial: Denial): Record<string, string> {
      if (denial.kind === 'operator') return { ...operator };
      // Tool names are server-defined; quote-safe characters only, to keep the header well-formed.
      const safeTool = denial.name.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 128);
      const scope = options.scopePrefix === undefined ? '' : `, scope="${options.scopePrefix}tools:${safeTool}"`;
      return { 'www-authenticate': `${base}, error="insufficient_scope"${scope}, error_description="This credential may not use the requested tool"` };
    },
  };
}
