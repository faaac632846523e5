/**
 * @module http/routes/oauth-codes
 * `POST /api/oauth/sign-in-codes`: an operator makes a one-time sign-in code for an API key
 * (`mcp-warden oauth code`), to hand to a user who signs an OAuth-only client in with it on the
 * consent page instead of the key. Served with `--oauth-issuer` in key sign-in mode only.
 *
 * Who may: an operator API key, presented as a Bearer key. An access token carrying the
 * operator scope is refused (403): a stolen 10-minute token must not mint a code worth a
 * 30-day grant. The code is in the answer once (`cache-control: no-store`); the server keeps
 * its digest only, and the audit trail records who made a code for which key, never the code.
 */

import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { SecurityEvents } from '../../observability/security-events.js';
import type { AuthorizationServer } from '../../security/oauth/authorization-server.js';
import { SIGN_IN_CODE_TTL } from '../../security/oauth/sign-in-codes.js';
import { replyError } from '../error-reply.js';

export const SIGN_IN_CODES_PATH = '/api/oauth/sign-in-codes';

export interface SignInCodeRouteOptions {
  readonly server: AuthorizationServer;
  /** Authentication, the credential's limits, the operator role. */
  readonly operatorGuards: onRequestHookHandler[];
  readonly events: SecurityEvents;
}

/** Key ids are file ids (`key_…`) or fingerprints: short, printable, no spaces. */
const KEY_ID = /^[\x21-\x7e]{1,128}$/;

/** RFC 6750 §3.1: the token has the operator scope, but this needs the operator key itself. */
const TOKEN_REFUSED = Object.freeze({
  'www-authenticate': 'Bearer realm="mcp-warden", error="insufficient_scope", error_description="Sign-in codes are made with an operator API key, not with a token"',
});

export function registerSignInCodeRoute(app: FastifyInstance, options: SignInCodeRouteOptions): void {
  const { server, events } = options;
  const requireApiKey: onRequestHookHandler = function requireOperatorKey(request, reply, done) {
    if (request.principal?.kind === 'api-key') {
      done();
      return;
    }
    if (request.principal !== null) events.scopeDenied(request.ip, request.principal, `operator_key:${SIGN_IN_CODES_PATH}`);
    replyError(request, reply, 'WARDEN_ERR_INSUFFICIENT_SCOPE', 'operator_key_required', TOKEN_REFUSED);
  };

  app.post(SIGN_IN_CODES_PATH, { onRequest: [...options.operatorGuards, requireApiKey] }, async (request, reply) => {
    const body = request.body as Record<string, unknown> | undefined;
    const keyId = body?.['keyId'];
    const ttl = body?.['ttlSeconds'] ?? SIGN_IN_CODE_TTL.default;
    if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) {
      return replyError(request, reply, 'WARDEN_ERR_INVALID_REQUEST', 'sign_in_code_key_id', undefined, '(keyId must be the id of an API key)');
    }
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < SIGN_IN_CODE_TTL.min || ttl > SIGN_IN_CODE_TTL.max) {
      return replyError(request, reply, 'WARDEN_ERR_INVALID_REQUEST', 'sign_in_code_ttl', undefined, `(ttlSeconds must be an integer from ${SIGN_IN_CODE_TTL.min} to ${SIGN_IN_CODE_TTL.max})`);
    }
    const issued = await server.issueSignInCode(keyId, ttl, request.principal?.id ?? '');
    if (issued === undefined) {
      return replyError(request, reply, 'WARDEN_ERR_INVALID_REQUEST', 'sign_in_code_key_inactive', undefined, '(keyId names no active API key)');
    }
    events.oauthCodeIssued(request.ip, request.principal as NonNullable<typeof request.principal>, keyId, issued.expiresAt);
    return reply
      .code(201)
      .headers({ 'cache-control': 'no-store', pragma: 'no-cache' })
      .send({ code: issued.code, keyId, expiresAt: new Date(issued.expiresAt).toISOString(), ttlSeconds: ttl });
  });
}
