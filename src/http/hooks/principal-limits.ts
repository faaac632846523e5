/**
 * @module http/hooks/principal-limits
 * Limits attached to a credential, applied after authentication: the key's allowed source
 * addresses (403) and its own rate limit, on top of the per-IP one (429 naming the per-key
 * limit).
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import type { Principal } from '../../security/identity.js';
import type { SecurityEvents } from '../../observability/security-events.js';
import type { RateLimitDecision, RateLimitStore } from '../../store/types.js';
import { replyError } from '../error-reply.js';
import { settle } from './settle.js';

export interface PrincipalLimitsOptions {
  readonly store: RateLimitStore;
  readonly events: SecurityEvents;
}

export function createPrincipalLimits(options: PrincipalLimitsOptions): onRequestHookHandler {
  const { store, events } = options;
  const windowSeconds = Math.round(store.windowMs / 1000);

  function apply(request: FastifyRequest, reply: FastifyReply, decision: RateLimitDecision, done: HookHandlerDoneFunction): void {
    if (decision.allowed) {
      done();
      return;
    }
    // Only reached for a request whose principal has a rate limit (checked before consuming).
    const principal = request.principal as Principal;
    const resetSeconds = String(Math.max(1, Math.ceil(decision.resetMs / 1000)));
    events.rateLimited(request.ip, 'key', principal);
    replyError(request, reply, 'WARDEN_ERR_KEY_RATE_LIMITED', 'key', {
      'retry-after': resetSeconds,
      'ratelimit-limit': String(decision.limit),
      'ratelimit-remaining': '0',
      'ratelimit-reset': resetSeconds,
      'ratelimit-policy': `${decision.limit};w=${windowSeconds};comment="per key"`,
    });
  }

  return function principalLimits(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const principal = request.principal;
    if (principal === null) {
      done();
      return;
    }
    if (principal.allowIps !== undefined && !principal.allowIps.matches(request.ip)) {
      events.denied(request.ip, 'key_ip', principal);
      replyError(request, reply, 'WARDEN_ERR_IP_FORBIDDEN', 'key_ip');
      return;
    }
    const limit = principal.rateLimit;
    if (limit === undefined) {
      done();
      return;
    }
    settle(store.consume(principal.id, limit), request, reply, done, apply);
  };
}
