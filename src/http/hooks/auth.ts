/**
 * @module http/hooks/auth
 * Bearer API-key authentication for protected routes (RFC 6750). A session id is not a
 * credential: every protected request carries the key. Missing or invalid credentials get 401
 * with `WWW-Authenticate: Bearer` (with `error="invalid_token"` only when a token was sent,
 * RFC 6750 §3.1). Keys in the query string are never looked at.
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { KeyRing } from '../../security/api-keys.js';
import { readBearer } from '../../security/bearer.js';
import type { ServerStats } from '../../observability/stats.js';
import { replyError } from '../wire.js';

export interface AuthHookOptions {
  /** Current keys; a function so a reloaded key ring takes effect at once. */
  readonly keys: () => KeyRing;
  readonly stats: ServerStats;
  readonly realm?: string;
}

export function createAuthHook(options: AuthHookOptions) {
  const realm = options.realm ?? 'mcp-warden';
  const challengeMissing = { 'www-authenticate': `Bearer realm="${realm}"` };
  const challengeInvalid = {
    'www-authenticate': `Bearer realm="${realm}", error="invalid_token", error_description="The access token is missing, malformed or not accepted"`,
  };
  const { stats } = options;

  return function authenticate(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const credential = readBearer(request.headers.authorization);
    if (credential.kind === 'missing') {
      request.authOutcome = 'missing';
      stats.authFailure();
      replyError(request, reply, 'WARDEN_ERR_AUTH_REQUIRED', 'no_credentials', challengeMissing);
      return;
    }
    const principal = credential.kind === 'token' ? options.keys().verify(credential.token) : undefined;
    if (principal === undefined) {
      request.authOutcome = 'invalid';
      stats.authFailure();
      replyError(request, reply, 'WARDEN_ERR_AUTH_INVALID', credential.kind === 'malformed' ? 'malformed_header' : 'unknown_key', challengeInvalid);
      return;
    }
    request.principal = principal;
    request.authOutcome = 'ok';
    done();
  };
}
